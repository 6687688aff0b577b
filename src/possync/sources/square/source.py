"""Square: one stream per entity, declared in `streams`/`catalog`, on the shared engine.

The source only speaks HTTP: it turns Square's answers into `Page`s with the cursor they
advance to; the engine validates, loads and commits each page with its cursor.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import httpx

from possync.config.settings import Settings
from possync.errors import ConfigError
from possync.sources.base import Page, ReadOptions, StreamState
from possync.sources.http import ApiClient, ClientBackedSource, RetryPolicy
from possync.sources.square import streams
from possync.sources.square.api import LOCATIONS_PATH, call, records_of
from possync.sources.square.catalog import read_catalog_objects, read_categories, read_locations
from possync.sources.square.reconcile import read_completed_orders
from possync.sources.square.timed import TimedStream, read_timed

if TYPE_CHECKING:
    from possync.sources.base import LocationWindow

ENTITIES = (
    "locations",
    "categories",
    "catalog_items",
    "catalog_item_variations",
    "customers",
    "orders",
    "inventory_counts",
    "payments",
    "refunds",
)
CATALOG_TYPES = {"catalog_items": "ITEM", "catalog_item_variations": "ITEM_VARIATION"}
TIMED: dict[str, TimedStream] = {
    s.entity: s
    for s in (
        streams.ORDERS,
        streams.CUSTOMERS,
        streams.PAYMENTS,
        streams.REFUNDS,
        streams.INVENTORY_COUNTS,
    )
}


class SquareSource(ClientBackedSource):
    """HTTP side of the Square connection. Never touches the database."""

    name = "square"

    def __init__(
        self,
        settings: Settings,
        *,
        transport: httpx.BaseTransport | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        if settings.square_token is None or not settings.square_token.get_secret_value():
            raise ConfigError("Square is not configured: set POSSYNC_SQUARE_TOKEN")
        self.page_limit = settings.square_page_limit
        self.location_chunk = settings.square_location_chunk
        self.lookbacks = {
            "orders": timedelta(days=settings.square_orders_lookback_days),
            "inventory_counts": timedelta(hours=settings.square_inventory_lookback_hours),
        }
        self.default_lookback = timedelta(minutes=settings.square_lookback_minutes)
        # No pacing: Square publishes no limits and sends no rate headers; a 429 backs off.
        self.client = ApiClient(
            settings.square_url,
            settings.square_token.get_secret_value(),
            extra_headers={"Square-Version": settings.square_version},
            transport=transport,
            retry=retry,
            timeout=settings.http_timeout_seconds,
            deadline=settings.http_deadline_seconds,
        )

    def stream_names(self) -> tuple[str, ...]:
        return ENTITIES

    def read_pages(self, entity: str, state: StreamState, options: ReadOptions) -> Iterator[Page]:
        """The pages of one entity's run (see the stream modules for how each reads)."""
        backfill = options.since is not None or options.until is not None
        if backfill and entity != "orders":
            raise ConfigError("--since/--until backfill only Square orders: use --entity orders")
        if entity == "locations":
            return read_locations(self.client)
        if entity == "categories":
            return read_categories(self.client)
        if entity in CATALOG_TYPES:
            return read_catalog_objects(
                self.client,
                CATALOG_TYPES[entity],
                state,
                options,
                overlap=self.default_lookback,
                limit=self.page_limit,
            )
        if entity not in TIMED:
            raise ConfigError(f"unknown Square entity {entity!r}: use one of {', '.join(ENTITIES)}")
        stream = streams.ORDERS_BACKFILL if backfill else TIMED[entity]
        return read_timed(
            self.client,
            stream,
            state,
            options,
            lookback=self.lookbacks.get(entity, self.default_lookback),
            limit=self.page_limit,
            chunk=self.location_chunk,
        )

    def reconcile_records(self, windows: list[LocationWindow]) -> Iterator[dict[str, Any]]:
        """The POS's COMPLETED orders created in each location's window (reconciliation)."""
        return read_completed_orders(
            self.client, windows, limit=self.page_limit, chunk=self.location_chunk
        )

    def check(self) -> str:
        """One cheap authenticated request; returns what it saw."""
        payload = call(self.client, "GET", LOCATIONS_PATH)
        count = len(records_of(payload, "locations", f"GET {LOCATIONS_PATH}"))
        return f"token accepted ({count} location(s))"
