"""GET /v2/customers and POST /v2/customers/search.

ListCustomers has no time filter. SearchCustomers filters on `created_at` / `updated_at`
(inclusive ranges) but can only *sort* by DEFAULT (given name, family name) or CREATED_AT —
note its keys are `query.sort.field` / `order`, not `sort_field`. Limits are 1..100 (400
outside). Sorting by name means a rename moves a customer between pages mid-walk.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator
from typing import Any

import orjson

from possync.simulator.faults import FaultInjector
from possync.simulator.square.common import (
    FIRST_PAGE,
    bad_request,
    check_cursor_fault,
    decode_cursor,
    key_ms,
    page_size,
    query_fingerprint,
    response_body,
)
from possync.simulator.square.model import SquareData, TimedRecord
from possync.simulator.square.params import (
    SORT_ORDERS,
    check_limit,
    collect_page,
    get_bool,
    get_enum,
    get_int,
    get_object,
    get_str_list,
    next_cursor,
    time_range_ms,
)

SORT_FIELDS = ("DEFAULT", "CREATED_AT")
SUPPORTED_FILTERS = ("created_at", "updated_at", "email_address", "reference_id", "creation_source")
Predicate = Callable[[TimedRecord], bool]


def list_customers(
    data: SquareData, args: dict[str, str], faults: FaultInjector, now_ms: int
) -> bytes:
    """One page of ListCustomers."""
    limit = check_limit(get_int(args.get("limit"), "limit", 100), 1, 100)
    sort_field = get_enum(args.get("sort_field"), SORT_FIELDS, "sort_field", "DEFAULT")
    sort_order = get_enum(args.get("sort_order"), SORT_ORDERS, "sort_order", "ASC")
    count = get_bool(args.get("count"), "count")
    fingerprint = query_fingerprint(["list", sort_field, sort_order, count])
    return _page(
        data, faults, args.get("cursor"), fingerprint, limit, sort_field, sort_order, [], count
    )


def search_customers(
    data: SquareData, body: dict[str, Any], faults: FaultInjector, now_ms: int
) -> bytes:
    """One page of SearchCustomers."""
    limit = check_limit(get_int(body.get("limit"), "limit", 100), 1, 100)
    count = get_bool(body.get("count"), "count")
    query = get_object(body.get("query"), "query")
    sort = get_object(query.get("sort"), "query.sort")
    sort_field = get_enum(sort.get("field"), SORT_FIELDS, "query.sort.field", "DEFAULT")
    sort_order = get_enum(sort.get("order"), SORT_ORDERS, "query.sort.order", "ASC")
    predicates = _filters(get_object(query.get("filter"), "query.filter"))
    fingerprint = query_fingerprint(["search", query, count])
    return _page(
        data,
        faults,
        body.get("cursor"),
        fingerprint,
        limit,
        sort_field,
        sort_order,
        predicates,
        count,
    )


def _filters(query_filter: dict[str, Any]) -> list[Predicate]:
    unsupported = sorted(set(query_filter) - set(SUPPORTED_FILTERS))
    if unsupported:
        raise bad_request(
            "BAD_REQUEST",
            f"The simulator does not support the customer filter `{unsupported[0]}`.",
            f"query.filter.{unsupported[0]}",
        )
    predicates: list[Predicate] = []
    for field in ("created_at", "updated_at"):
        if query_filter.get(field) is None:
            continue
        start, end = time_range_ms(query_filter[field], f"query.filter.{field}")
        predicates.append(
            _time_predicate(
                "created_key" if field == "created_at" else "updated_key",
                start if start is not None else 0,
                end if end is not None else 1 << 62,
            )
        )
    for field in ("email_address", "reference_id"):
        text_filter = get_object(query_filter.get(field), f"query.filter.{field}")
        if "exact" in text_filter:
            predicates.append(_text_predicate(field, str(text_filter["exact"]), exact=True))
        elif "fuzzy" in text_filter:
            predicates.append(_text_predicate(field, str(text_filter["fuzzy"]), exact=False))
    source = get_object(query_filter.get("creation_source"), "query.filter.creation_source")
    if source:
        values = set(
            get_str_list(source.get("values"), "query.filter.creation_source.values") or ()
        )
        include = source.get("rule", "INCLUDE") == "INCLUDE"
        predicates.append(lambda r: (_doc(r).get("creation_source") in values) == include)
    return predicates


def _time_predicate(attribute: str, low_ms: int, high_ms: int) -> Predicate:
    def matches(record: TimedRecord) -> bool:
        return low_ms <= key_ms(getattr(record, attribute)) <= high_ms

    return matches


def _text_predicate(field: str, wanted: str, *, exact: bool) -> Predicate:
    wanted = wanted.lower()

    def matches(record: TimedRecord) -> bool:
        value = str(_doc(record).get(field, "")).lower()
        return value == wanted if exact else wanted in value

    return matches


def _doc(record: TimedRecord) -> dict[str, Any]:
    doc: dict[str, Any] = orjson.loads(record.json)
    return doc


def _page(
    data: SquareData,
    faults: FaultInjector,
    cursor: Any,
    fingerprint: str,
    limit: int,
    sort_field: str,
    sort_order: str,
    predicates: list[Predicate],
    count: bool,
) -> bytes:
    state = FIRST_PAGE
    if cursor is not None:
        check_cursor_fault(cursor, faults)
        state = decode_cursor(cursor, "customers", fingerprint)
    position = _checked_position(state.position, sort_field)
    if isinstance(position, str):
        position = int(position)
    descending = sort_order == "DESC"
    entries = (
        _by_name(data, position, descending)
        if sort_field == "DEFAULT"
        else _by_created(data, position, descending)
    )

    def render(_: Any, customer_id: str) -> bytes | None:
        record = data.customers[customer_id]
        return record.json if all(p(record) for p in predicates) else None

    size = page_size(limit, faults)
    items, last = collect_page(entries, render, size)
    extra: dict[str, Any] = {
        "cursor": next_cursor("customers", fingerprint, items, size, last, state)
    }
    if count:
        extra["count"] = sum(1 for r in data.customers.values() if all(p(r) for p in predicates))
    return response_body("customers", items, extra)


def _checked_position(position: Any, sort_field: str) -> Any:
    valid = (
        position is None
        or (sort_field == "CREATED_AT" and isinstance(position, str) and position.isdigit())
        or (
            sort_field == "DEFAULT"
            and isinstance(position, list)
            and len(position) == 3
            and all(isinstance(part, str) for part in position)
        )
    )
    if not valid:
        raise bad_request(
            "INVALID_CURSOR", "The pagination cursor included in the request is invalid.", "cursor"
        )
    return position


def _by_name(
    data: SquareData, position: list[str] | None, descending: bool
) -> Iterator[tuple[list[str], str]]:
    names = data.customer_names()
    if descending:
        at = len(names) - 1 if position is None else bisect_left(names, tuple(position)) - 1
        while at >= 0:
            yield list(names[at]), names[at][2]
            at -= 1
    else:
        at = 0 if position is None else bisect_right(names, tuple(position))
        while at < len(names):
            yield list(names[at]), names[at][2]
            at += 1


def _by_created(
    data: SquareData, position: int | None, descending: bool
) -> Iterator[tuple[int, str]]:
    index = data.customers_created
    if descending:
        return index.descending(0, (1 << 80) if position is None else position - 1)
    return index.ascending(0 if position is None else position + 1, 1 << 80)
