"""The POS side of Square's reconciliation: every COMPLETED order created in the days checked.

One SearchOrders query per chunk of at most 10 locations, filtered on `state` COMPLETED and
on a `created_at` range covering every location's local days in the chunk (sorted by
CREATED_AT, as Square requires of the filtered field), paged by cursor. A refused cursor
restarts the query from the last `created_at` read, so the orders at that instant come again:
they are yielded once (by id), since here every order is counted, not upserted.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from possync.sources.http import ApiClient
from possync.sources.square.api import ORDERS_SEARCH_PATH, call, square_time
from possync.sources.square.walk import Fetch, walk_query

if TYPE_CHECKING:
    from possync.sources.base import LocationWindow

MAX_LOCATIONS_PER_SEARCH = 10  # SearchOrders refuses more location ids


def completed_orders_body(
    locations: list[str], start_at: str, end_at: str, limit: int, cursor: str | None
) -> dict[str, Any]:
    """SearchOrders for COMPLETED orders created in [start_at, end_at] (both inclusive)."""
    body: dict[str, Any] = {
        "location_ids": locations,
        "limit": limit,
        "query": {
            "filter": {
                "state_filter": {"states": ["COMPLETED"]},
                "date_time_filter": {"created_at": {"start_at": start_at, "end_at": end_at}},
            },
            "sort": {"sort_field": "CREATED_AT", "sort_order": "ASC"},
        },
    }
    if cursor:
        body["cursor"] = cursor
    return body


def location_chunks(windows: list[LocationWindow], size: int) -> list[list[LocationWindow]]:
    """The windows sorted by location id, in chunks of at most `size` (≤ 10) locations."""
    size = max(1, min(size, MAX_LOCATIONS_PER_SEARCH))
    ordered = sorted(windows, key=lambda window: window.location_id)
    return [ordered[i : i + size] for i in range(0, len(ordered), size)]


def read_completed_orders(
    client: ApiClient, windows: list[LocationWindow], *, limit: int, chunk: int
) -> Iterator[dict[str, Any]]:
    """Every COMPLETED order created in its location's window, each exactly once. A chunk's
    range spans all its locations' windows; orders outside their own location's days are
    left for the engine to drop (it keeps only the days checked)."""
    for part in location_chunks(windows, chunk):
        bounds = [window.utc_bounds() for window in part]
        start = min(begin for begin, _ in bounds)
        # Square's end is inclusive; the windows' ends are the next day's first instant.
        end = max(stop for _, stop in bounds) - timedelta(microseconds=1)
        locations = [window.location_id for window in part]
        begin_at, end_at = square_time(start), square_time(end)
        seen: set[str] = set()
        for page in walk_query(
            _fetcher(client, locations, begin_at, end_at, limit),
            list_key="orders",
            where="orders search (reconciliation)",
            start_from=begin_at,
            narrow_field="created_at",
        ):
            for order in page.records:
                order_id = order.get("id") if isinstance(order, dict) else None
                if not isinstance(order_id, str) or order_id in seen:
                    continue
                seen.add(order_id)
                yield order


def _fetcher(
    client: ApiClient, locations: list[str], begin_at: str, end_at: str, limit: int
) -> Fetch:
    """One chunk's query; a restart after a refused cursor narrows its start."""

    def fetch(start_from: str | None, cursor: str | None) -> dict[str, Any]:
        body = completed_orders_body(locations, start_from or begin_at, end_at, limit, cursor)
        return call(client, "POST", ORDERS_SEARCH_PATH, body=body)

    return fetch
