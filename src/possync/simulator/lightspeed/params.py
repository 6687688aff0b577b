"""Query parameters of the simulated Lightspeed API, refused with 400 when malformed."""

from __future__ import annotations

from werkzeug.datastructures import MultiDict


class BadRequest(ValueError):
    """A query parameter the API would refuse (answered 400)."""


def integer_param(args: MultiDict[str, str], name: str, default: int, *, minimum: int) -> int:
    """An integer parameter (empty means the default)."""
    value = optional_integer_param(args, name)
    if value is None:
        return default
    if value < minimum:
        raise BadRequest(f"{name} must be at least {minimum}")
    return value


def optional_integer_param(args: MultiDict[str, str], name: str) -> int | None:
    """An integer parameter, or None when absent or empty."""
    raw = args.get(name, "").strip()
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        raise BadRequest(f"{name} must be an integer") from None


def boolean_param(args: MultiDict[str, str], name: str) -> bool:
    """True for `true` or `1`."""
    return args.get(name, "").strip().lower() in ("true", "1")
