"""Parsing a response body that the fast parser (orjson) refuses, without losing the page.

orjson refuses a whole body for one bad value: a lone surrogate escape (`"\\ud83d"`), bytes
that are not UTF-8, a number no float can hold (`1e400`); and it reads an integer beyond 64
bits as a float, silently. One such
record would then fail its page on every run. Here the body is parsed again by Python's own
parser, which accepts all of these; each value PostgreSQL could not store becomes an
`Unreadable`, which validation turns into that record's quarantine reason. Integers of any
size stay exact Python ints (never floats): validation checks them against their column.

A body that is not complete JSON (truncated, cut mid-string) still fails here too, and the
client retries it as before.
"""

from __future__ import annotations

import json
import math
from typing import Any

import orjson

from possync.load.json_values import Unreadable

SHOWN_CHARS = 40


# orjson reads an integer beyond 64 bits as a float, silently: a body with a run of 19 or
# more digits (2^63 has 19) goes to the exact parser. A long digit run inside a string (a
# barcode) only costs that page the slower parser. Every digit becomes "0", then one
# substring search: 2 ms for a 760 kB page, against 13 ms for a regular expression.
_DIGITS_AS_ZERO = bytes.maketrans(b"0123456789", b"0" * 10)
_LONG_DIGIT_RUN = b"0" * 19


def parse_json_body(body: bytes) -> Any:
    """The parsed body: by orjson when it can, else by the tolerant parser. Raises
    ValueError when the body is not complete JSON at all."""
    if _LONG_DIGIT_RUN in body.translate(_DIGITS_AS_ZERO):
        return parse_tolerantly(body)
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return parse_tolerantly(body)


def parse_tolerantly(body: bytes) -> Any:
    # Invalid UTF-8 bytes become lone surrogates (U+DC80–U+DCFF), caught below like "\\ud83d".
    text = body.decode("utf-8", errors="surrogateescape")
    parsed = json.loads(text, parse_float=_float, parse_constant=_constant)
    return _mark(parsed)


def _float(text: str) -> float | Unreadable:
    value = float(text)
    if math.isfinite(value):
        return value
    return Unreadable(f"the number {text[:SHOWN_CHARS]} is out of range", text[:SHOWN_CHARS])


def _constant(text: str) -> Unreadable:
    return Unreadable(f"{text} is not a JSON number", text)


def _mark(value: Any) -> Any:
    """Replace each string PostgreSQL cannot hold (lone surrogates) with an `Unreadable`."""
    if isinstance(value, str):
        return _checked_text(value)
    if isinstance(value, list):
        return [_mark(item) for item in value]
    if isinstance(value, dict):
        return {_readable(key): _mark(item) for key, item in value.items()}
    return value


def _has_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _readable(text: str) -> str:
    """A key (or a stand-in) with U+FFFD where a character cannot be stored."""
    if not _has_surrogate(text):
        return text
    return "".join("\ufffd" if "\ud800" <= char <= "\udfff" else char for char in text)


def _checked_text(text: str) -> str | Unreadable:
    if not _has_surrogate(text):
        return text
    shown = _readable(text)[:SHOWN_CHARS]
    return Unreadable(f"text {shown!r} holds invalid UTF-8 or a lone surrogate", _readable(text))
