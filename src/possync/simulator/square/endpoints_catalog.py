"""GET /v2/catalog/list and POST /v2/catalog/search.

ListCatalog never shows deleted objects and pages by a fixed 100. SearchCatalogObjects is the
incremental path: `begin_time` is exclusive, deleted objects appear only with
`include_deleted_objects`, results run oldest change first, and every answer carries
`latest_time` (when the catalog last changed), which clients should keep as the next
`begin_time`. Nested types (ITEM_VARIATION) appear on their own only when asked for.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson

from possync.simulator.faults import FaultInjector
from possync.simulator.square.common import (
    FIRST_PAGE,
    bad_request,
    check_cursor_fault,
    decode_cursor,
    format_ms,
    lowest_key,
    page_size,
    parse_time_us,
    query_fingerprint,
    response_body,
)
from possync.simulator.square.model import SquareData
from possync.simulator.square.params import (
    CATALOG_TYPES,
    TOP_LEVEL_TYPES,
    collect_page,
    get_bool,
    get_enum_list,
    get_int,
    get_object,
    int_position,
    next_cursor,
)

LIST_PAGE_SIZE = 100
SEARCH_DEFAULT_LIMIT = 100
SEARCH_MAX_LIMIT = 1000


def _list_types(raw: str | None) -> list[str]:
    if not raw:
        return list(TOP_LEVEL_TYPES)
    types = [part.strip().upper() for part in raw.split(",") if part.strip()]
    for object_type in types:
        if object_type not in CATALOG_TYPES:
            raise bad_request(
                "INVALID_ENUM_VALUE", f"`{object_type}` is not a catalog object type.", "types"
            )
    return types


def list_catalog(
    data: SquareData, args: dict[str, str], faults: FaultInjector, now_ms: int
) -> bytes:
    """One page of ListCatalog (deleted objects hidden, 100 per page)."""
    types = set(_list_types(args.get("types")))
    fingerprint = query_fingerprint(sorted(types))
    cursor = args.get("cursor")
    state = FIRST_PAGE
    if cursor is not None:
        check_cursor_fault(cursor, faults)
        state = decode_cursor(cursor, "catalog_list", fingerprint)
    position = int_position(state.position) or 0

    def entries() -> Iterator[tuple[int, str]]:
        order = data.catalog_order
        for ordinal in range(position, len(order)):
            yield ordinal + 1, order[ordinal]

    def render(_: int, object_id: str) -> bytes | None:
        record = data.catalog[object_id]
        if record.is_deleted or record.type not in types:
            return None
        return record.json

    size = page_size(LIST_PAGE_SIZE, faults)
    items, last = collect_page(entries(), render, size)
    token = next_cursor("catalog_list", fingerprint, items, size, last, state)
    return response_body("objects", items, {"cursor": token})


def search_catalog(
    data: SquareData, body: dict[str, Any], faults: FaultInjector, now_ms: int
) -> bytes:
    """One page of SearchCatalogObjects (no `query` support: the sync never needs one)."""
    types = get_enum_list(body.get("object_types"), CATALOG_TYPES, "object_types")
    wanted = set(types) if types else set(TOP_LEVEL_TYPES)
    include_deleted = get_bool(body.get("include_deleted_objects"), "include_deleted_objects")
    include_related = get_bool(body.get("include_related_objects"), "include_related_objects")
    if include_deleted and get_bool(
        body.get("include_category_path_to_root"), "include_category_path_to_root"
    ):
        raise bad_request(
            "CONFLICTING_PARAMETERS",
            "include_deleted_objects and include_category_path_to_root cannot both be true.",
            "include_category_path_to_root",
        )
    if get_object(body.get("query"), "query"):
        raise bad_request(
            "BAD_REQUEST", "The simulator supports searches without a `query` only.", "query"
        )
    limit = get_int(body.get("limit"), "limit", SEARCH_DEFAULT_LIMIT)
    if limit <= 0 or limit > SEARCH_MAX_LIMIT:
        limit = SEARCH_DEFAULT_LIMIT  # Square: such a limit "will be ignored"
    begin = body.get("begin_time")
    # begin_time is exclusive: objects stamped exactly at begin_time are left out.
    low = lowest_key(parse_time_us(begin, "begin_time") // 1000 + 1) if begin else 0
    fingerprint = query_fingerprint([sorted(wanted), include_deleted, include_related, begin])
    cursor = body.get("cursor")
    state = FIRST_PAGE
    if cursor is not None:
        check_cursor_fault(cursor, faults)
        state = decode_cursor(cursor, "catalog_search", fingerprint)
    position = int_position(state.position)
    if position is not None:
        low = max(low, position + 1)

    def render(key: int, object_id: str) -> bytes | None:
        record = data.catalog[object_id]
        if record.updated_key != key or record.type not in wanted:
            return None
        if record.is_deleted and not include_deleted:
            return None
        return record.json

    size = page_size(limit, faults)
    items, last = collect_page(data.catalog_updated.ascending(low, 1 << 80), render, size)
    extra: dict[str, Any] = {}
    if include_related and items:
        extra["related_objects"] = _related(data, items)
    extra["cursor"] = next_cursor("catalog_search", fingerprint, items, size, last, state)
    extra["latest_time"] = format_ms(data.catalog_latest_ms)
    return response_body("objects", items, extra)


def _related(data: SquareData, items: list[bytes]) -> list[Any]:
    """Categories and taxes the page's items refer to (one level deep)."""
    in_page: set[str] = set()
    referenced: list[str] = []
    for raw in items:
        obj = orjson.loads(raw)
        in_page.add(obj["id"])
        item_data = obj.get("item_data")
        if item_data is None:
            continue
        referenced.extend(category["id"] for category in item_data.get("categories", ()))
        referenced.extend(item_data.get("tax_ids", ()))
    related_ids = [i for i in dict.fromkeys(referenced) if i not in in_page]
    return [orjson.loads(data.catalog[i].json) for i in related_ids]
