"""`GET /search`: offset pagination (page_size at most 1000) over sales, products, customers.

Sales filters: `date_from` (inclusive) and `date_to` (exclusive) on `sale_date` in UTC,
`outlet_id`, `status` (repeatable), `customer_id`, `user_id`, `invoice_number`, `_id`,
`-_id`, `deleted` (default false). Sales come in `sale_date` order (`order_direction`).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from werkzeug.datastructures import MultiDict

from possync.simulator.lightspeed.params import BadRequest, boolean_param, integer_param
from possync.simulator.lightspeed.sales import Sale
from possync.simulator.lightspeed.state import LightspeedState

MAX_PAGE_SIZE = 1000
SEARCH_TYPES = ("sales", "products", "customers")
# Product and customer filters: parameter -> record field (exact match, case-insensitive).
SEARCH_FIELDS = {
    "_id": "id",
    "sku": "sku",
    "brand_id": "brand_id",
    "supplier_id": "supplier_id",
    "email": "email",
    "customer_code": "customer_code",
}


def search_page(state: LightspeedState, args: MultiDict[str, str]) -> list[bytes]:
    """The serialized records of one search page (caller holds the state lock)."""
    kind = args.get("type", "")
    if kind not in SEARCH_TYPES:
        raise BadRequest(f"type must be one of {', '.join(SEARCH_TYPES)}")
    offset = integer_param(args, "offset", 0, minimum=0)
    page_size = min(integer_param(args, "page_size", MAX_PAGE_SIZE, minimum=1), MAX_PAGE_SIZE)
    include_deleted = boolean_param(args, "deleted")
    descending = args.get("order_direction", "asc").lower() == "desc"
    feed = state.feeds[kind]
    if kind == "sales":
        ids: Iterable[str] = (
            s.id for s in _matching_sales(state, args, include_deleted, descending)
        )
    else:
        ids = _matching_records(state.records[kind].values(), args, include_deleted, descending)
    bodies: list[bytes] = []
    for index, record_id in enumerate(ids):
        if index < offset:
            continue
        if len(bodies) == page_size:
            break
        stored = feed.get(record_id)
        if stored is not None:
            bodies.append(stored.body)
    return bodies


def _matching_sales(
    state: LightspeedState, args: MultiDict[str, str], include_deleted: bool, descending: bool
) -> Iterator[Sale]:
    index = state.sales_by_date
    low = 0
    high = len(index)
    date_from, date_to = _epoch(args.get("date_from")), _epoch(args.get("date_to"))
    if date_from is not None:
        low = bisect_left(index, (date_from, ""))
    if date_to is not None:
        high = bisect_left(index, (date_to, ""))
    keep = _sale_filter(state, args, include_deleted)
    positions = range(high - 1, low - 1, -1) if descending else range(low, high)
    for position in positions:
        sale = state.sales[index[position][1]]
        if keep(sale):
            yield sale


def _sale_filter(
    state: LightspeedState, args: MultiDict[str, str], include_deleted: bool
) -> Callable[[Sale], bool]:
    outlet_ids = [o.id for o in state.catalog.outlets]
    statuses = {s.upper() for s in args.getlist("status")}
    outlet = args.get("outlet_id")
    customer, user = args.get("customer_id"), args.get("user_id")
    invoice = args.get("invoice_number")
    only_id, without_id = args.get("_id"), args.get("-_id")

    def keep(sale: Sale) -> bool:
        return (
            (include_deleted or sale.deleted_at is None)
            and (not statuses or sale.status in statuses)
            and (outlet is None or outlet_ids[sale.outlet] == outlet)
            and (customer is None or sale.customer_id == customer)
            and (user is None or sale.user_id == user)
            and (invoice is None or sale.invoice_number == invoice)
            and (only_id is None or sale.id == only_id)
            and (without_id is None or sale.id != without_id)
        )

    return keep


def _matching_records(
    records: Iterable[dict[str, Any]],
    args: MultiDict[str, str],
    include_deleted: bool,
    descending: bool,
) -> list[str]:
    wanted = {
        SEARCH_FIELDS[name]: {value.lower() for value in args.getlist(name)}
        for name in SEARCH_FIELDS
        if name in args
    }
    ids = [
        r["id"]
        for r in records
        if (include_deleted or r.get("deleted_at") is None)
        and all(str(r.get(field)).lower() in values for field, values in wanted.items())
    ]
    return ids[::-1] if descending else ids


def _epoch(value: str | None) -> int | None:
    """A UTC timestamp parameter (`2016-08-08T12:00:00Z`, with offset, or a date)."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace(" ", "+"))
    except ValueError:
        raise BadRequest(f"cannot read date {value!r}; use 2016-08-08T12:00:00Z") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return int(parsed.timestamp())
