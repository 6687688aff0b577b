"""GET /v2/locations and POST /v2/inventory/counts/batch-retrieve.

ListLocations answers everything at once (inactive locations included), alphabetically.
BatchRetrieveInventoryCounts runs newest `calculated_at` first; `updated_after` keeps only
counts calculated strictly after it. A count is keyed by (catalog object, location, state).
"""

from __future__ import annotations

from typing import Any

import orjson

from possync.simulator.faults import FaultInjector
from possync.simulator.square.common import (
    FIRST_PAGE,
    check_cursor_fault,
    decode_cursor,
    lowest_key,
    page_size,
    parse_time_us,
    query_fingerprint,
    response_body,
)
from possync.simulator.square.model import SquareData
from possync.simulator.square.params import (
    check_limit,
    collect_page,
    get_enum_list,
    get_int,
    get_str_list,
    int_position,
    next_cursor,
)

INVENTORY_STATES = (
    "CUSTOM", "IN_STOCK", "SOLD", "RETURNED_BY_CUSTOMER", "RESERVED_FOR_SALE", "SOLD_ONLINE",
    "ORDERED_FROM_VENDOR", "RECEIVED_FROM_VENDOR", "IN_TRANSIT_TO", "NONE", "WASTE",
    "UNLINKED_RETURN", "COMPOSED", "DECOMPOSED", "SUPPORTED_BY_NEWER_VERSION", "IN_TRANSIT",
)  # fmt: skip


def list_locations(
    data: SquareData, args: dict[str, str], faults: FaultInjector, now_ms: int
) -> bytes:
    """Every location in one response, sorted by name."""
    ordered = sorted(data.locations.values(), key=lambda location: (location.name, location.id))
    return response_body("locations", [orjson.dumps(location.doc) for location in ordered])


def batch_retrieve_counts(
    data: SquareData, body: dict[str, Any], faults: FaultInjector, now_ms: int
) -> bytes:
    """One page of inventory counts, newest first."""
    object_ids = get_str_list(body.get("catalog_object_ids"), "catalog_object_ids")
    location_ids = get_str_list(body.get("location_ids"), "location_ids")
    states = get_enum_list(body.get("states"), INVENTORY_STATES, "states")
    limit = check_limit(get_int(body.get("limit"), "limit", 1000), 1, 1000)
    updated_after = body.get("updated_after")
    # "after": a count calculated exactly at updated_after is not returned.
    low = (
        lowest_key(parse_time_us(updated_after, "updated_after") // 1000 + 1)
        if updated_after
        else 0
    )
    fingerprint = query_fingerprint([object_ids, location_ids, states, updated_after])
    wanted_objects = set(object_ids) if object_ids is not None else None
    wanted_locations = set(location_ids) if location_ids is not None else None
    wanted_states = set(states) if states is not None else None
    high = 1 << 80
    cursor = body.get("cursor")
    state = FIRST_PAGE
    if cursor is not None:
        check_cursor_fault(cursor, faults)
        state = decode_cursor(cursor, "inventory_counts", fingerprint)
    position = int_position(state.position)
    if position is not None:
        high = position - 1

    def render(key: int, count_id: str) -> bytes | None:
        record = data.counts[count_id]
        if record.key != key:
            return None
        if wanted_objects is not None and record.catalog_object_id not in wanted_objects:
            return None
        if wanted_locations is not None and record.location_id not in wanted_locations:
            return None
        if wanted_states is not None and record.state not in wanted_states:
            return None
        return record.json

    size = page_size(limit, faults)
    items, last = collect_page(data.counts_index.descending(low, high), render, size)
    token = next_cursor("inventory_counts", fingerprint, items, size, last, state)
    return response_body("counts", items, {"cursor": token})
