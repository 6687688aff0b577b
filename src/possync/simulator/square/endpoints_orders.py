"""POST /v2/orders/search — Square's rules, including the ones clients trip over.

- 1 to 10 `location_ids` (an 11th is a 400, as real Square answers).
- One `date_time_filter` range at a time; `sort.sort_field` must name the same field.
- Ranges are inclusive at both ends; a missing `end_at` means "the time of the first
  request for the cursor", so the cursor freezes that instant.
- `sort_order` defaults to DESC; `limit` defaults to 500, at most 1000.
- A cursor only works with the query it was issued for.
"""

from __future__ import annotations

import heapq
from operator import attrgetter
from typing import Any

import orjson

from possync.simulator.faults import FaultInjector
from possync.simulator.square.common import (
    FIRST_PAGE,
    bad_request,
    check_cursor_fault,
    decode_cursor,
    highest_key,
    lowest_key,
    page_size,
    query_fingerprint,
    response_body,
)
from possync.simulator.square.model import SquareData, TimeIndex
from possync.simulator.square.params import (
    SORT_ORDERS,
    check_limit,
    collect_page,
    get_bool,
    get_enum,
    get_enum_list,
    get_int,
    get_object,
    get_str_list,
    int_position,
    next_cursor,
    time_range_ms,
)

SORT_FIELDS = {"CREATED_AT": "created_at", "UPDATED_AT": "updated_at", "CLOSED_AT": "closed_at"}
STATES = ("OPEN", "COMPLETED", "CANCELED", "DRAFT")
MAX_LOCATIONS = 10


def _location_ids(data: SquareData, body: dict[str, Any]) -> list[str]:
    location_ids = get_str_list(body.get("location_ids"), "location_ids") or []
    if not location_ids:
        raise bad_request("ARRAY_EMPTY", "Must provide at least 1 location_id.", "location_ids")
    if len(location_ids) > MAX_LOCATIONS:
        raise bad_request(
            "ARRAY_LENGTH_TOO_LONG",
            f"Cannot provide more than {MAX_LOCATIONS} location_ids.",
            "location_ids",
        )
    for location_id in location_ids:
        if location_id not in data.locations:
            raise bad_request(
                "INVALID_VALUE",
                f"Location `{location_id}` does not belong to this merchant.",
                "location_ids",
            )
    return list(dict.fromkeys(location_ids))


def _sort_and_range(query: dict[str, Any], as_of: int) -> tuple[str, str, int | None, int | None]:
    """(sort field, sort order, first ms, last ms) — the range is on the sort field."""
    sort = get_object(query.get("sort"), "query.sort")
    if "sort" in query and "sort_field" not in sort:
        raise bad_request(
            "MISSING_REQUIRED_PARAMETER", "Missing `sort_field`.", "query.sort.sort_field"
        )
    sort_field = get_enum(
        sort.get("sort_field"), SORT_FIELDS, "query.sort.sort_field", "CREATED_AT"
    )
    sort_order = get_enum(sort.get("sort_order"), SORT_ORDERS, "query.sort.sort_order", "DESC")
    query_filter = get_object(query.get("filter"), "query.filter")
    date_filter = get_object(query_filter.get("date_time_filter"), "query.filter.date_time_filter")
    ranges = [name for name in SORT_FIELDS.values() if date_filter.get(name) is not None]
    if len(ranges) > 1:
        raise bad_request(
            "BAD_REQUEST",
            "You can filter for only one time range at a time.",
            "query.filter.date_time_filter",
        )
    if not ranges:
        return sort_field, sort_order, None, as_of
    field = ranges[0]
    if SORT_FIELDS[sort_field] != field:
        raise bad_request(
            "BAD_REQUEST",
            f"The sort_field must be {field.upper()} when the date_time_filter filters on "
            f"`{field}`.",
            "query.sort.sort_field",
        )
    path = f"query.filter.date_time_filter.{field}"
    start_ms, end_ms = time_range_ms(date_filter[field], path, default_end_ms=as_of)
    return sort_field, sort_order, start_ms, end_ms


def _record_filters(
    query: dict[str, Any], sort_field: str
) -> tuple[list[str] | None, list[str] | None, list[str] | None]:
    """(states, customer ids, source names) to keep; None means any."""
    query_filter = get_object(query.get("filter"), "query.filter")
    state_filter = get_object(query_filter.get("state_filter"), "query.filter.state_filter")
    states = get_enum_list(state_filter.get("states"), STATES, "query.filter.state_filter.states")
    if sort_field == "CLOSED_AT" and states and ({"OPEN", "DRAFT"} & set(states)):
        raise bad_request(
            "BAD_REQUEST",
            "Sorting by CLOSED_AT requires a state_filter of closed states only.",
            "query.filter.state_filter",
        )
    customers = get_object(query_filter.get("customer_filter"), "query.filter.customer_filter")
    sources = get_object(query_filter.get("source_filter"), "query.filter.source_filter")
    return (
        states,
        get_str_list(customers.get("customer_ids"), "query.filter.customer_filter.customer_ids"),
        get_str_list(sources.get("source_names"), "query.filter.source_filter.source_names"),
    )


def search_orders(
    data: SquareData, body: dict[str, Any], faults: FaultInjector, now_ms: int
) -> bytes:
    """One page of SearchOrders."""
    location_ids = _location_ids(data, body)
    limit = check_limit(get_int(body.get("limit"), "limit", 500), 1, 1000)
    return_entries = get_bool(body.get("return_entries"), "return_entries")
    query = get_object(body.get("query"), "query")
    fingerprint = query_fingerprint([location_ids, query, return_entries])
    cursor = body.get("cursor")
    # Without end_at, the window ends at the first request's time, kept in the cursor.
    state = FIRST_PAGE._replace(as_of=now_ms)
    if cursor is not None:
        check_cursor_fault(cursor, faults)
        state = decode_cursor(cursor, "orders", fingerprint)
    position = int_position(state.position)
    as_of = state.as_of
    sort_field, sort_order, start_ms, end_ms = _sort_and_range(query, as_of)
    states, customer_ids, source_names = _record_filters(query, sort_field)

    field = SORT_FIELDS[sort_field]
    indexes: dict[str, dict[str, TimeIndex]] = {
        "created_at": data.orders_created,
        "updated_at": data.orders_updated,
        "closed_at": data.orders_closed,
    }
    low = lowest_key(start_ms) if start_ms is not None else 0
    high = highest_key(end_ms) if end_ms is not None else 1 << 80
    descending = sort_order == "DESC"
    if position is not None:
        if descending:
            high = min(high, position - 1)
        else:
            low = max(low, position + 1)
    streams = [
        (idx.descending(low, high) if descending else idx.ascending(low, high))
        for idx in (indexes[field][location_id] for location_id in location_ids)
    ]
    merged = heapq.merge(*streams, reverse=descending)
    key_of = attrgetter(field.replace("_at", "_key"))

    def render(key: int, order_id: str) -> bytes | None:
        record = data.orders[order_id]
        if key_of(record) != key:
            return None  # stale index entry: the order changed since
        if states is not None and record.state not in states:
            return None
        if customer_ids is not None and record.customer_id not in customer_ids:
            return None
        if source_names is not None and record.source_name not in source_names:
            return None
        if return_entries:
            entry: dict[str, Any] = {"order_id": record.id, "location_id": record.location_id}
            if record.version is not None:
                entry["version"] = record.version
            return orjson.dumps(entry)
        return record.json

    size = page_size(limit, faults)
    items, last = collect_page(merged, render, size)
    next_token = next_cursor("orders", fingerprint, items, size, last, state)
    return response_body(
        "order_entries" if return_entries else "orders", items, {"cursor": next_token}
    )
