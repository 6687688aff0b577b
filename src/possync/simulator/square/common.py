"""Shared pieces of the Square simulator: time keys, timestamps, ids, money, errors, cursors.

Time is kept as integer epoch milliseconds. Records are ordered by a *key*
``ms << 32 | seq`` where `seq` is a store-wide change counter, so keys are unique and a
cursor can name an exact position even when many records share a millisecond.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import random
from datetime import UTC, date, datetime
from typing import Any, NamedTuple

import orjson

from possync.simulator.faults import FaultInjector

SEQ_BITS = 32
SEQ_MASK = (1 << SEQ_BITS) - 1
DAY_MS = 86_400_000
HOUR_MS = 3_600_000
MINUTE_MS = 60_000
CURRENCY = "USD"
DEFAULT_SQUARE_VERSION = "2025-08-20"

_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_MIXED = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
# bytes.translate tables: one random byte becomes one id character (fast, deterministic).
_UPPER_TABLE = bytes(ord(_UPPER[i % len(_UPPER)]) for i in range(256))
_MIXED_TABLE = bytes(ord(_MIXED[i % len(_MIXED)]) for i in range(256))


def make_key(ms: int, seq: int) -> int:
    """The ordering key of a record version: its time, then the change that made it."""
    return (ms << SEQ_BITS) | (seq & SEQ_MASK)


def key_ms(key: int) -> int:
    """The millisecond part of a key."""
    return key >> SEQ_BITS


def lowest_key(ms: int) -> int:
    """The smallest key at millisecond `ms`."""
    return ms << SEQ_BITS


def highest_key(ms: int) -> int:
    """The largest key at millisecond `ms`."""
    return (ms << SEQ_BITS) | SEQ_MASK


def upper_id(rng: random.Random, length: int) -> str:
    """An id like Square's location, catalog and customer ids (upper case and digits)."""
    return rng.randbytes(length).translate(_UPPER_TABLE).decode()


def mixed_id(rng: random.Random, length: int) -> str:
    """An id like Square's order, payment and line item uids (mixed case and digits)."""
    return rng.randbytes(length).translate(_MIXED_TABLE).decode()


_DAY_PREFIXES: dict[int, str] = {}


def format_ms(ms: int) -> str:
    """RFC 3339 UTC with milliseconds, e.g. ``2026-11-01T12:00:00.000Z``."""
    seconds, millis = divmod(ms, 1000)
    day, rest = divmod(seconds, 86_400)
    prefix = _DAY_PREFIXES.get(day)
    if prefix is None:
        prefix = _DAY_PREFIXES[day] = date.fromordinal(719_163 + day).isoformat() + "T"
    return f"{prefix}{rest // 3600:02d}:{rest // 60 % 60:02d}:{rest % 60:02d}.{millis:03d}Z"


def format_seconds(ms: int) -> str:
    """RFC 3339 UTC without a fraction (Square mixes both precisions), e.g. ``…:55Z``."""
    return format_ms(ms - ms % 1000)[:-5] + "Z"


def ceil_second(ms: int) -> int:
    """Round up to a whole second (customer `updated_at` is stored at second precision)."""
    return -(-ms // 1000) * 1000


def now_ms(moment: datetime) -> int:
    """Epoch milliseconds of an aware datetime."""
    return int(moment.timestamp() * 1000)


def compact_json(value: Any) -> bytes:
    """JSON bytes for keeping: orjson's result holds on to its ~4 KiB build buffer, so a
    stored copy of exactly the right size keeps a large store several times smaller."""
    return bytes(memoryview(orjson.dumps(value)))


def money(amount: int) -> dict[str, Any]:
    """Square Money: integer minor units plus currency."""
    return {"amount": amount, "currency": CURRENCY}


class SquareRequestError(Exception):
    """A request Square would refuse; rendered as Square's error envelope."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        *,
        field: str | None = None,
        category: str = "INVALID_REQUEST_ERROR",
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.field = field
        self.category = category

    def envelope(self) -> dict[str, Any]:
        """``{"errors": [{category, code, detail, field?}]}``."""
        error: dict[str, Any] = {
            "category": self.category,
            "code": self.code,
            "detail": self.detail,
        }
        if self.field is not None:
            error["field"] = self.field
        return {"errors": [error]}


def bad_request(code: str, detail: str, field: str | None = None) -> SquareRequestError:
    """A 400 INVALID_REQUEST_ERROR."""
    return SquareRequestError(400, code, detail, field=field)


def parse_time_us(value: Any, field: str) -> int:
    """An RFC 3339 timestamp (any offset, any precision) as epoch microseconds."""
    if not isinstance(value, str):
        raise bad_request("EXPECTED_STRING", f"Expected `{field}` to be a string.", field)
    try:
        parsed = datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        raise bad_request(
            "INVALID_TIME", f"Invalid timestamp `{value}` for `{field}`.", field
        ) from None
    if parsed.tzinfo is None:
        raise bad_request(
            "INVALID_TIME", f"Timestamp `{value}` for `{field}` needs a time zone offset.", field
        )
    delta = parsed.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def first_ms_at_or_after(us: int) -> int:
    """The smallest millisecond m with m >= the instant `us` (inclusive start)."""
    return -(-us // 1000)


def last_ms_at_or_before(us: int) -> int:
    """The largest millisecond m with m <= the instant `us` (inclusive end)."""
    return us // 1000


def query_fingerprint(query: Any) -> str:
    """A short stable hash of a query, so a cursor only works with the query it came from."""
    return hashlib.sha1(orjson.dumps(query, option=orjson.OPT_SORT_KEYS)).hexdigest()[:16]


class CursorState(NamedTuple):
    """What a cursor carries: where the walk stands, the frozen "now", the page number."""

    position: Any
    as_of: int
    serial: int


FIRST_PAGE = CursorState(None, 0, 0)


def encode_cursor(endpoint: str, fingerprint: str, position: Any, as_of: int, serial: int) -> str:
    """An opaque cursor naming the endpoint, the query, the position and the frozen time.
    The page number makes every cursor of a walk distinct, even after an empty page."""
    # Keys exceed 64 bits, which JSON numbers cannot carry safely: send them as text.
    if isinstance(position, int):
        position = str(position)
    raw = orjson.dumps([endpoint, fingerprint, position, as_of, serial])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(token: Any, endpoint: str, fingerprint: str) -> CursorState:
    """The state of a cursor issued for this endpoint and query, else 400 INVALID_CURSOR."""
    invalid = bad_request(
        "INVALID_CURSOR", "The pagination cursor included in the request is invalid.", "cursor"
    )
    if not isinstance(token, str) or not token:
        raise invalid
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        decoded = orjson.loads(raw)
    except (binascii.Error, ValueError, orjson.JSONDecodeError):
        raise invalid from None
    if not isinstance(decoded, list) or len(decoded) != 5 or decoded[0] != endpoint:
        raise invalid
    if not all(isinstance(number, int) for number in decoded[3:]):
        raise invalid
    if decoded[1] != fingerprint:
        raise bad_request(
            "INVALID_CURSOR",
            "The cursor was issued for a different query; resend the original query.",
            "cursor",
        )
    return CursorState(decoded[2], decoded[3], decoded[4])


def check_cursor_fault(cursor: Any, faults: FaultInjector) -> None:
    """Reject a cursor as expired when the fault injector says so (Square cursors age out)."""
    if cursor is not None and faults.should("expired_cursor"):
        raise bad_request(
            "INVALID_CURSOR",
            "The pagination cursor included in the request is invalid or has expired.",
            "cursor",
        )


def page_size(limit: int, faults: FaultInjector) -> int:
    """How many records this page holds: `limit`, or fewer when a short page is injected."""
    if limit > 0 and faults.should("short_page"):
        return faults.randint(0, limit - 1)
    return limit


def response_body(list_key: str, items: list[bytes], extra: dict[str, Any] | None = None) -> bytes:
    """Join pre-serialized records into a response object; an empty page omits the key."""
    parts: list[bytes] = []
    if items:
        parts.append(b'"' + list_key.encode() + b'":[' + b",".join(items) + b"]")
    for name, value in (extra or {}).items():
        if value is not None:
            parts.append(orjson.dumps(name) + b":" + orjson.dumps(value))
    return b"{" + b",".join(parts) + b"}"
