"""GET /v2/payments and GET /v2/refunds (query string only; a GET body is ignored).

`begin_time` / `end_time` filter on `created_at` and default to the last year;
`updated_at_begin_time` / `updated_at_end_time` filter on `updated_at`. Ranges include their
start and exclude their end. `sort_field` is CREATED_AT by default (UPDATED_AT for change
capture), `sort_order` DESC by default, `limit` at most 100 (more is treated as 100).
Payments default to the seller's *main* location only; refunds to all locations.
"""

from __future__ import annotations

from collections.abc import Callable

from possync.simulator.faults import FaultInjector
from possync.simulator.square.common import (
    DAY_MS,
    FIRST_PAGE,
    bad_request,
    check_cursor_fault,
    decode_cursor,
    first_ms_at_or_after,
    key_ms,
    lowest_key,
    page_size,
    parse_time_us,
    query_fingerprint,
    response_body,
)
from possync.simulator.square.model import SquareData, TimedRecord, TimeIndex
from possync.simulator.square.params import (
    SORT_ORDERS,
    collect_page,
    get_enum,
    get_int,
    int_position,
    next_cursor,
)

MAX_LIMIT = 100
YEAR_MS = 365 * DAY_MS
PAYMENT_SORT_FIELDS = ("CREATED_AT", "OFFLINE_CREATED_AT", "UPDATED_AT")
REFUND_SORT_FIELDS = ("CREATED_AT", "UPDATED_AT")
REFUND_STATUSES = ("PENDING", "COMPLETED", "REJECTED", "FAILED")


def _bound(args: dict[str, str], name: str, default: int | None) -> int | None:
    """A time bound in ms (the first ms at or after the instant given)."""
    value = args.get(name)
    if value is None:
        return default
    return first_ms_at_or_after(parse_time_us(value, name))


def _limit(args: dict[str, str]) -> int:
    limit = get_int(args.get("limit"), "limit", MAX_LIMIT)
    if limit < 1:
        raise bad_request("VALUE_TOO_LOW", "`limit` must be at least 1.", "limit")
    return min(limit, MAX_LIMIT)


def _walk(
    records: dict[str, TimedRecord],
    created_index: TimeIndex,
    updated_index: TimeIndex,
    args: dict[str, str],
    sort_fields: tuple[str, ...],
    endpoint: str,
    list_key: str,
    accept: Callable[[TimedRecord], bool],
    faults: FaultInjector,
    now_ms: int,
) -> bytes:
    sort_field = get_enum(args.get("sort_field"), sort_fields, "sort_field", "CREATED_AT")
    descending = get_enum(args.get("sort_order"), SORT_ORDERS, "sort_order", "DESC") == "DESC"
    limit = _limit(args)
    created_from = _bound(args, "begin_time", now_ms - YEAR_MS)
    created_to = _bound(args, "end_time", now_ms + 1)
    updated_from = _bound(args, "updated_at_begin_time", None)
    updated_to = _bound(args, "updated_at_end_time", None)
    fingerprint = query_fingerprint(
        {k: v for k, v in sorted(args.items()) if k not in ("cursor", "limit")}
    )
    cursor = args.get("cursor")
    state = FIRST_PAGE
    if cursor is not None:
        check_cursor_fault(cursor, faults)
        state = decode_cursor(cursor, endpoint, fingerprint)
    position = int_position(state.position)
    by_updated = sort_field == "UPDATED_AT"
    attribute = "updated_key" if by_updated else "created_key"
    low_ms, high_ms = (updated_from, updated_to) if by_updated else (created_from, created_to)
    low = lowest_key(low_ms) if low_ms is not None else 0
    high = lowest_key(high_ms) - 1 if high_ms is not None else 1 << 80
    if position is not None:
        if descending:
            high = min(high, position - 1)
        else:
            low = max(low, position + 1)
    index = updated_index if by_updated else created_index
    entries = index.descending(low, high) if descending else index.ascending(low, high)

    def in_range(ms: int, start: int | None, end: int | None) -> bool:
        return (start is None or ms >= start) and (end is None or ms < end)

    def render(key: int, record_id: str) -> bytes | None:
        record = records[record_id]
        if getattr(record, attribute) != key or not accept(record):
            return None
        if not in_range(key_ms(record.created_key), created_from, created_to):
            return None
        if not in_range(key_ms(record.updated_key), updated_from, updated_to):
            return None
        return record.json

    size = page_size(limit, faults)
    items, last = collect_page(entries, render, size)
    token = next_cursor(endpoint, fingerprint, items, size, last, state)
    return response_body(list_key, items, {"cursor": token})


def list_payments(
    data: SquareData, args: dict[str, str], faults: FaultInjector, now_ms: int
) -> bytes:
    """One page of ListPayments (one location: the main one unless `location_id` is given)."""
    location_id = args.get("location_id") or next(iter(data.locations))
    if location_id not in data.locations:
        raise bad_request(
            "INVALID_VALUE",
            f"Location `{location_id}` does not belong to this merchant.",
            "location_id",
        )
    return _walk(
        data.payments,
        data.payments_created[location_id],
        data.payments_updated[location_id],
        args,
        PAYMENT_SORT_FIELDS,
        "payments",
        "payments",
        lambda record: True,
        faults,
        now_ms,
    )


def list_refunds(
    data: SquareData, args: dict[str, str], faults: FaultInjector, now_ms: int
) -> bytes:
    """One page of ListPaymentRefunds (all locations unless `location_id` is given)."""
    location_id = args.get("location_id")
    status = args.get("status")
    if status is not None:
        get_enum(status, REFUND_STATUSES, "status", "")
    source_type = args.get("source_type")

    def accept(record: TimedRecord) -> bool:
        if location_id is not None and record.location_id != location_id:
            return False
        if status is not None and record.status != status:
            return False
        return source_type is None or record.kind == source_type

    return _walk(
        data.refunds,
        data.refunds_created,
        data.refunds_updated,
        args,
        REFUND_SORT_FIELDS,
        "refunds",
        "refunds",
        accept,
        faults,
        now_ms,
    )
