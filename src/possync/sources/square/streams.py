"""The time-windowed Square streams, declared: how each asks Square for one page.

Each `fetch` builds the request of one partition's query (the same query on every page, as
Square requires with a cursor); `read_timed` does the walking.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from possync.errors import PaginationError
from possync.sources.http import ApiClient
from possync.sources.square.api import (
    CUSTOMERS_SEARCH_PATH,
    EARLIEST_TIME,
    INVENTORY_COUNTS_PATH,
    ORDERS_SEARCH_PATH,
    PAYMENTS_PATH,
    REFUNDS_PATH,
    CursorExpiredError,
    call,
    latest_time,
    records_of,
)
from possync.sources.square.timed import TimedQuery, TimedStream

# Square's page maxima: SearchCustomers refuses more than 100, ListPayments/Refunds cap at 100.
SMALL_PAGE_MAX = 100
PROBE_MAX_REQUESTS = 20


def _orders_body(query: TimedQuery, field: str) -> dict[str, Any]:
    """SearchOrders sorted ascending on `field`, filtered on the same field (Square
    requires the sort field to match the time filter)."""
    time_range: dict[str, str] = {}
    start = query.start_from or query.begin
    if start:
        time_range["start_at"] = start
    if query.end:
        time_range["end_at"] = query.end
    search: dict[str, Any] = {"sort": {"sort_field": field.upper(), "sort_order": "ASC"}}
    if time_range:
        search["filter"] = {"date_time_filter": {field: time_range}}
    body: dict[str, Any] = {"location_ids": query.locations, "limit": query.limit, "query": search}
    if query.cursor:
        body["cursor"] = query.cursor
    return body


def fetch_orders(client: ApiClient, query: TimedQuery) -> dict[str, Any]:
    """Orders changed in the window (updated_at, ascending)."""
    return call(client, "POST", ORDERS_SEARCH_PATH, body=_orders_body(query, "updated_at"))


def fetch_orders_created(client: ApiClient, query: TimedQuery) -> dict[str, Any]:
    """Orders created in a backfill range (created_at, ascending)."""
    return call(client, "POST", ORDERS_SEARCH_PATH, body=_orders_body(query, "created_at"))


def probe_orders(client: ApiClient, locations: list[str] | None) -> datetime | None:
    """The newest order change in these locations: the window's end, on Square's clock.

    Square may answer a page with fewer records than asked, even none, and a cursor: an
    empty first page does not mean there are no orders (the window would end too early and
    a "successful" run would miss the newest ones), so the probe follows the cursor."""
    body: dict[str, Any] = {
        "location_ids": locations,
        "limit": 1,
        "query": {"sort": {"sort_field": "UPDATED_AT", "sort_order": "DESC"}},
    }
    cursor: str | None = None
    for _ in range(PROBE_MAX_REQUESTS):
        try:
            payload = call(
                client,
                "POST",
                ORDERS_SEARCH_PATH,
                body={**body, "cursor": cursor} if cursor else body,
            )
        except CursorExpiredError:
            cursor = None  # start the probe over
            continue
        records = records_of(payload, "orders", "orders probe")
        cursor = payload.get("cursor") or None
        if records or cursor is None:
            return latest_time(records, "updated_at", None)
    raise PaginationError(
        f"orders probe: {PROBE_MAX_REQUESTS} answers in a row held no order; run the sync again"
    )


def fetch_customers(client: ApiClient, query: TimedQuery) -> dict[str, Any]:
    """Customers changed since the window's start; sorted by created_at, which is also where
    a refused cursor restarts (SearchCustomers cannot sort on updated_at)."""
    filters: dict[str, Any] = {}
    if query.begin:
        filters["updated_at"] = {"start_at": query.begin}
    if query.start_from:
        filters["created_at"] = {"start_at": query.start_from}
    search: dict[str, Any] = {"sort": {"field": "CREATED_AT", "order": "ASC"}}
    if filters:
        search["filter"] = filters
    body: dict[str, Any] = {"limit": query.limit, "query": search}
    if query.cursor:
        body["cursor"] = query.cursor
    return call(client, "POST", CUSTOMERS_SEARCH_PATH, body=body)


def _changes_params(query: TimedQuery) -> dict[str, Any]:
    """ListPayments/ListPaymentRefunds by updated_at, ascending."""
    return {
        "location_id": query.locations[0] if query.locations else None,
        "begin_time": EARLIEST_TIME,
        "updated_at_begin_time": query.start_from or query.begin,
        "sort_field": "UPDATED_AT",
        "sort_order": "ASC",
        "limit": query.limit,
        "cursor": query.cursor,
    }


def fetch_payments(client: ApiClient, query: TimedQuery) -> dict[str, Any]:
    """One location's payments (Square lists the main location's only, by default)."""
    return call(client, "GET", PAYMENTS_PATH, params=_changes_params(query))


def fetch_refunds(client: ApiClient, query: TimedQuery) -> dict[str, Any]:
    """Refunds of every location."""
    return call(client, "GET", REFUNDS_PATH, params=_changes_params(query))


def fetch_inventory(client: ApiClient, query: TimedQuery) -> dict[str, Any]:
    """One location's counts calculated after the window's start (newest first)."""
    body: dict[str, Any] = {"location_ids": query.locations, "limit": query.limit}
    if query.begin:
        body["updated_after"] = query.begin
    if query.cursor:
        body["cursor"] = query.cursor
    return call(client, "POST", INVENTORY_COUNTS_PATH, body=body)


ORDERS = TimedStream(
    "orders",
    "orders",
    fetch_orders,
    clock_field="updated_at",
    narrow_field="updated_at",
    partition="chunk",
    probe=probe_orders,
)
ORDERS_BACKFILL = TimedStream(
    "orders",
    "orders",
    fetch_orders_created,
    clock_field="updated_at",
    narrow_field="created_at",
    partition="chunk",
)
CUSTOMERS = TimedStream(
    "customers",
    "customers",
    fetch_customers,
    clock_field="updated_at",
    narrow_field="created_at",
    max_limit=SMALL_PAGE_MAX,
    snapshot_on_full=True,
)
PAYMENTS = TimedStream(
    "payments",
    "payments",
    fetch_payments,
    clock_field="updated_at",
    narrow_field="updated_at",
    partition="location",
    max_limit=SMALL_PAGE_MAX,
)
REFUNDS = TimedStream(
    "refunds",
    "refunds",
    fetch_refunds,
    clock_field="updated_at",
    narrow_field="updated_at",
    max_limit=SMALL_PAGE_MAX,
)
INVENTORY_COUNTS = TimedStream(
    "inventory_counts",
    "counts",
    fetch_inventory,
    clock_field="calculated_at",
    narrow_field=None,  # newest first: a refused cursor restarts the query...
    partition="location",  # ...so each query covers one location, to keep it short
)
