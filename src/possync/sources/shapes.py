"""What a well-formed page of each endpoint looks like, and the one check every page passes.

An HTTP 200 is not proof of a page: a proxy, a maintenance switch or a broken deploy can answer
`{}`, `{"data": null}` or `{"error": "Service temporarily unavailable"}` with status 200. Taken
as an empty page, such an answer ends a full snapshot early and marks every stored row deleted.
So each page is checked against its endpoint's declared shape before anything reads it, and an
answer that does not fit fails the run with one line (invariant 10: only a well-formed answer
changes data).

A page is well formed when:

- it is a JSON object with no `error` key and no non-empty `errors` list;
- its records array is where the endpoint puts it and holds only JSON objects. Lightspeed
  always sends it (`data`, or `data.categories`); Square leaves an empty array out, so there a
  missing array is an empty page, but only when nothing else in the answer is foreign to
  Square's list envelopes (`{"data": null}` is not a Square page);
- its cursor, when the endpoint has one, has the declared type (Lightspeed `version` an object
  with integer or null `max`; `page_info.has_next` a boolean; Square `cursor` a string).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from possync.errors import SourceError

# Every top-level key of Square's list and search responses (the spec's *Response schemas):
# an answer without its records array may hold these and nothing else.
SQUARE_ENVELOPE_KEYS = frozenset(
    {"errors", "cursor", "latest_time", "related_objects", "order_entries", "count"}
)


class MalformedPageError(SourceError):
    """An answer (usually HTTP 200) that is not a page of its endpoint: nothing is changed."""


@dataclass(frozen=True)
class PageShape:
    """Where one endpoint puts its records, and whether an empty page may leave them out."""

    where: str  # "GET /products": the start of every message about this endpoint
    records_path: tuple[str, ...]  # ("data",), ("data", "categories"), ("orders",)
    may_omit_records: bool = False  # Square drops empty arrays from its answers
    envelope_keys: frozenset[str] = frozenset()  # allowed beside a missing records array


def lightspeed_list_shape(path: str) -> PageShape:
    """Lightspeed 2.0 collections: `{"data": [...], "version": {"min", "max"}}`."""
    return PageShape(f"GET {path}", ("data",))


def lightspeed_categories_shape(path: str, list_key: str) -> PageShape:
    """Product categories: `{"data": {"categories": [...]}, "page_info": {...}}`."""
    return PageShape(f"GET {path}", ("data", list_key))


def square_shape(where: str, list_key: str) -> PageShape:
    """A Square list or search answer; an empty one may be `{}`."""
    return PageShape(where, (list_key,), may_omit_records=True, envelope_keys=SQUARE_ENVELOPE_KEYS)


def page_records(payload: Any, shape: PageShape) -> list[dict[str, Any]]:
    """The page's records, or MalformedPageError naming what is wrong with the answer."""
    holder = json_object(payload, shape.where)
    _refuse_error_envelope(holder, shape)
    for depth, key in enumerate(shape.records_path):
        last = depth == len(shape.records_path) - 1
        if key not in holder:
            if shape.may_omit_records and last:
                _refuse_foreign_keys(holder, shape)
                return []
            raise _malformed(shape, f"`{_dotted(shape, depth)}` is missing")
        value = holder[key]
        if last:
            return _records(value, shape)
        if not isinstance(value, dict):
            raise _malformed(shape, f"`{_dotted(shape, depth)}` is {_kind(value)}, not an object")
        holder = value
    raise _malformed(shape, "declares no records array")  # an empty records_path: a bug


def json_object(payload: Any, where: str) -> dict[str, Any]:
    """The answer as a JSON object (every page of every endpoint is one)."""
    if not isinstance(payload, dict):
        raise _malformed(PageShape(where, ()), f"expected a JSON object, got {_kind(payload)}")
    return payload


def optional_object(payload: dict[str, Any], key: str, shape: PageShape) -> dict[str, Any]:
    """A sub-object of the answer that may be missing or null (Lightspeed's `version`)."""
    value = payload.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _malformed(shape, f"`{key}` is {_kind(value)}, not an object")
    return value


def required_object(payload: dict[str, Any], key: str, shape: PageShape) -> dict[str, Any]:
    """A sub-object every page of the endpoint carries (Lightspeed's `page_info`)."""
    value = payload.get(key)
    if not isinstance(value, dict):
        raise _malformed(shape, f"`{key}` is {_kind(value)}, not an object")
    return value


def malformed(shape: PageShape, problem: str) -> MalformedPageError:
    """The one-line error for a page of `shape` with `problem`."""
    return _malformed(shape, problem)


def _records(value: Any, shape: PageShape) -> list[dict[str, Any]]:
    name = ".".join(shape.records_path)
    if not isinstance(value, list):
        raise _malformed(shape, f"`{name}` is {_kind(value)}, not a list")
    for index, record in enumerate(value):
        if not isinstance(record, dict):
            raise _malformed(shape, f"`{name}[{index}]` is {_kind(record)}, not an object")
    return value


def _refuse_error_envelope(payload: dict[str, Any], shape: PageShape) -> None:
    if "error" in payload:
        raise _malformed(shape, f"the API answered with an error: {_short(payload['error'])}")
    errors = payload.get("errors")
    if errors:  # Square puts `errors` on failures; an empty list is no error
        first = errors[0] if isinstance(errors, list) else errors
        if isinstance(first, dict):
            first = first.get("detail") or first.get("code") or first
        raise _malformed(shape, f"the API answered with an error: {_short(first)}")


def _refuse_foreign_keys(holder: dict[str, Any], shape: PageShape) -> None:
    foreign = sorted(set(holder) - shape.envelope_keys)
    if foreign:
        name = shape.records_path[-1]
        raise _malformed(
            shape, f"no `{name}` and unexpected keys {', '.join(map(repr, foreign[:5]))}"
        )


def _malformed(shape: PageShape, problem: str) -> MalformedPageError:
    return MalformedPageError(
        f"{shape.where}: not a well-formed page ({problem}); nothing was changed"
    )


def _dotted(shape: PageShape, depth: int) -> str:
    return ".".join(shape.records_path[: depth + 1])


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), "a number" if isinstance(value, int | float) else type(value).__name__
    )


def _short(value: Any) -> str:
    return str(value).replace("\n", " ")[:160]
