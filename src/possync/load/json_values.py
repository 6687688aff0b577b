"""Values from an API that PostgreSQL cannot store as sent, and how their records are kept.

The tolerant parser (`possync.sources.tolerant_json`) puts an `Unreadable` where a body held a
lone surrogate, invalid UTF-8 or a number out of every range; validation quarantines the
record with the value's reason. Integers beyond 64 bits stay exact Python ints. Neither orjson
nor JSONB takes these as they are: `storable_json` writes the quarantined payload so that it
is kept whole, with a stand-in text where a value could not be.
"""

from __future__ import annotations

import json
from typing import Any

import orjson


class Unreadable:
    """A value from the API that cannot be stored as it was sent. Not a dataclass: orjson
    would serialize one silently, and it must refuse it (that is how a record is caught)."""

    __slots__ = ("reason", "stand_in")

    def __init__(self, reason: str, stand_in: str) -> None:
        self.reason = reason  # e.g. "text '…' holds invalid UTF-8 or a lone surrogate"
        self.stand_in = stand_in  # what the quarantine's raw JSON keeps in its place

    def __repr__(self) -> str:
        return f"Unreadable({self.reason!r})"


def first_unstorable(value: Any, path: str = "") -> str | None:
    """Why a payload cannot be stored as JSON (the first bad value, with where it is)."""
    if isinstance(value, Unreadable):
        return f"{path or 'the record'}: {value.reason}"
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and not -(2**63) <= value < 2**64:
        return f"{path or 'the record'}: the integer {_digits(value)} is beyond 64 bits"
    if isinstance(value, dict):
        for key, item in value.items():
            reason = first_unstorable(item, f"{path}.{key}" if path else str(key))
            if reason:
                return reason
    if isinstance(value, list):
        for index, item in enumerate(value):
            reason = first_unstorable(item, f"{path}[{index}]")
            if reason:
                return reason
    return None


def storable_json(payload: Any, *, sort_keys: bool = False) -> str:
    """The payload as JSON text that JSONB accepts: stand-ins for unreadable values, U+FFFD
    where a NUL was. Big integers are kept exactly (JSONB numbers are numeric)."""
    option = orjson.OPT_SORT_KEYS if sort_keys else None
    try:
        text = orjson.dumps(payload, default=_stand_in, option=option).decode()
    except orjson.JSONEncodeError:  # an integer beyond 64 bits
        text = json.dumps(payload, default=_stand_in, ensure_ascii=False, sort_keys=sort_keys)
    return text.replace("\\u0000", "\\ufffd")


def is_exact(payload: Any) -> bool:
    """Whether `storable_json` keeps the payload exactly as received (no stand-in, no NUL
    replaced, no integer beyond 64 bits): only then can it be validated again."""
    return first_unstorable(payload) is None and not _has_nul(payload)


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    return False


def _stand_in(value: Any) -> str:
    if isinstance(value, Unreadable):
        return value.stand_in
    raise TypeError(f"{type(value).__name__} is not JSON")


def _digits(value: int) -> str:
    """An integer shortened for a one-line reason (str() refuses over 4,300 digits)."""
    if value.bit_length() > 4000:
        return f"of {value.bit_length()} bits"
    text = str(value)
    return text if len(text) <= 24 else f"{text[:12]}…({len(text)} digits)"
