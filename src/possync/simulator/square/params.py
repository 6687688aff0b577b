"""Reading request parameters the way Square validates them (typed 400s, not crashes)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import orjson
from werkzeug.wrappers import Request

from possync.simulator.square.common import (
    CursorState,
    bad_request,
    encode_cursor,
    first_ms_at_or_after,
    last_ms_at_or_before,
    parse_time_us,
)

TOP_LEVEL_TYPES = (
    "ITEM", "CATEGORY", "TAX", "DISCOUNT", "MODIFIER_LIST", "PRICING_RULE", "PRODUCT_SET",
    "TIME_PERIOD", "MEASUREMENT_UNIT", "SUBSCRIPTION_PLAN", "ITEM_OPTION",
    "CUSTOM_ATTRIBUTE_DEFINITION", "QUICK_AMOUNTS_SETTINGS",
)  # fmt: skip
CATALOG_TYPES = (
    *TOP_LEVEL_TYPES, "IMAGE", "ITEM_VARIATION", "MODIFIER", "SUBSCRIPTION_PLAN_VARIATION",
    "ITEM_OPTION_VAL", "AVAILABILITY_PERIOD",
)  # fmt: skip
SORT_ORDERS = ("ASC", "DESC")


def json_body(request: Request) -> dict[str, Any]:
    """The JSON object sent as the body (an empty body counts as {})."""
    raw = request.get_data()
    if not raw.strip():
        return {}
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise bad_request("EXPECTED_JSON_BODY", "The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise bad_request("EXPECTED_OBJECT", "The request body must be a JSON object.")
    return body


def query_args(request: Request) -> dict[str, str]:
    """Query string parameters (GET endpoints read only these, never a body)."""
    return {name: request.args[name] for name in request.args}


def get_int(value: Any, field: str, default: int) -> int:
    """An integer field (JSON number or query string)."""
    if value is None:
        return default
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            raise bad_request(
                "EXPECTED_INTEGER", f"Expected `{field}` to be an integer.", field
            ) from None
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad_request("EXPECTED_INTEGER", f"Expected `{field}` to be an integer.", field)
    return value


def get_bool(value: Any, field: str) -> bool:
    """A boolean field (JSON boolean or "true"/"false" in a query string)."""
    if value is None:
        return False
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    if not isinstance(value, bool):
        raise bad_request("EXPECTED_BOOLEAN", f"Expected `{field}` to be a boolean.", field)
    return value


def get_object(value: Any, field: str) -> dict[str, Any]:
    """A nested object (absent → {})."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise bad_request("EXPECTED_OBJECT", f"Expected `{field}` to be an object.", field)
    return value


def get_str_list(value: Any, field: str) -> list[str] | None:
    """A list of strings (absent → None)."""
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise bad_request("EXPECTED_ARRAY", f"Expected `{field}` to be an array of strings.", field)
    return value


def get_enum(value: Any, allowed: Iterable[str], field: str, default: str) -> str:
    """One value of an enum (absent → default)."""
    if value is None:
        return default
    if not isinstance(value, str) or value not in allowed:
        raise bad_request(
            "INVALID_ENUM_VALUE", f"`{value}` is not a valid value for `{field}`.", field
        )
    return value


def get_enum_list(value: Any, allowed: Iterable[str], field: str) -> list[str] | None:
    """A list of enum values (absent → None)."""
    values = get_str_list(value, field)
    if values is not None:
        for item in values:
            get_enum(item, allowed, field, "")
    return values


def check_limit(limit: int, low: int, high: int, field: str = "limit") -> int:
    """A limit Square validates strictly: out of range is a 400."""
    if limit < low:
        raise bad_request("VALUE_TOO_LOW", f"`{field}` must be at least {low}.", field)
    if limit > high:
        raise bad_request("VALUE_TOO_HIGH", f"`{field}` must be at most {high}.", field)
    return limit


def time_range_ms(
    value: Any, field: str, default_end_ms: int | None = None
) -> tuple[int | None, int | None]:
    """A TimeRange {start_at, end_at}, both inclusive, as (first ms, last ms) or None."""
    time_range = get_object(value, field)
    start = time_range.get("start_at")
    end = time_range.get("end_at")
    start_ms = first_ms_at_or_after(parse_time_us(start, f"{field}.start_at")) if start else None
    end_ms = last_ms_at_or_before(parse_time_us(end, f"{field}.end_at")) if end else default_end_ms
    if start_ms is not None and end_ms is not None and end_ms < start_ms:
        raise bad_request("INVALID_TIME_RANGE", f"`{field}` ends before it starts.", field)
    return start_ms, end_ms


def int_position(position: Any) -> int | None:
    """A cursor position that must be a record key (None: the first page)."""
    if position is None:
        return None
    if isinstance(position, str) and position.isdigit():
        return int(position)
    raise bad_request(
        "INVALID_CURSOR", "The pagination cursor included in the request is invalid.", "cursor"
    )


def collect_page(
    entries: Iterator[tuple[Any, str]], render: Any, size: int
) -> tuple[list[bytes], Any]:
    """Up to `size` rendered records; `render(position, id)` returns bytes or None to skip.
    Returns the records and the position of the last one."""
    items: list[bytes] = []
    last: Any = None
    if size <= 0:
        return items, last
    for position, record_id in entries:
        rendered = render(position, record_id)
        if rendered is None:
            continue
        items.append(rendered)
        last = position
        if len(items) >= size:
            break
    return items, last


def next_cursor(
    endpoint: str,
    fingerprint: str,
    items: list[bytes],
    size: int,
    last: Any,
    current: CursorState,
) -> str | None:
    """A cursor when the page is full (Square may then answer the next call with nothing)."""
    if len(items) < size:
        return None
    position = last if items else current.position
    return encode_cursor(endpoint, fingerprint, position, current.as_of, current.serial + 1)
