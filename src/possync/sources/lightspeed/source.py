"""Lightspeed streams: each a declaration (path, whether deletes need `deleted=true`, how it
pages); one paginator per style does the walking."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import httpx

from possync.config.settings import Settings
from possync.errors import ConfigError
from possync.sources.base import Page, ReadOptions, StreamState
from possync.sources.http import ApiClient, ClientBackedSource, Pacing, RetryPolicy
from possync.sources.paginators import walk_id_cursor, walk_versions
from possync.sources.shapes import lightspeed_list_shape, page_records

if TYPE_CHECKING:
    from possync.sources.base import LocationWindow

SEARCH_PAGE_SIZE = 1000  # /search's documented maximum
# The API's rate limit is 300 × registers + 50 requests per 5-minute window.
RATE_LIMIT_WINDOW_SECONDS = 300.0
# API 2.0 lists by version only: no listing takes a date range to re-read (reference §2).
NO_BACKFILL = (
    "Lightspeed cannot backfill a date range (its API lists by version, not by date): "
    "use `possync sync --source lightspeed --full` to re-read every record from the start"
)


@dataclass(frozen=True)
class LightspeedStream:
    entity: str
    path: str
    paging: Literal["version", "category"] = "version"
    # Without deleted=true these collections never show deletions (reference notes §2.4).
    include_deleted: bool = False


STREAMS: dict[str, LightspeedStream] = {
    s.entity: s
    for s in (
        LightspeedStream("outlets", "/outlets", include_deleted=True),
        LightspeedStream("registers", "/registers", include_deleted=True),
        LightspeedStream("users", "/users"),
        LightspeedStream("taxes", "/taxes"),
        LightspeedStream("payment_types", "/payment_types"),
        LightspeedStream("brands", "/brands"),
        LightspeedStream("suppliers", "/suppliers"),
        LightspeedStream("product_categories", "/product_categories", paging="category"),
        LightspeedStream("customer_groups", "/customer_groups", include_deleted=True),
        LightspeedStream("products", "/products", include_deleted=True),
        LightspeedStream("customers", "/customers", include_deleted=True),
        LightspeedStream("inventory", "/inventory"),
        LightspeedStream("sales", "/sales"),  # deleted sales are listed without a parameter
    )
}


class LightspeedSource(ClientBackedSource):
    """HTTP side of the Lightspeed connection. Never touches the database."""

    name = "lightspeed"

    def __init__(
        self,
        settings: Settings,
        *,
        transport: httpx.BaseTransport | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        base_url = settings.lightspeed_base_url
        if not base_url or settings.lightspeed_token is None:
            raise ConfigError(
                "Lightspeed is not configured: set POSSYNC_LIGHTSPEED_DOMAIN_PREFIX "
                "(or POSSYNC_LIGHTSPEED_URL) and POSSYNC_LIGHTSPEED_TOKEN"
            )
        self.page_size = settings.lightspeed_page_size
        self.client = ApiClient(
            base_url,
            settings.lightspeed_token.get_secret_value(),
            pacing=Pacing(window_seconds=RATE_LIMIT_WINDOW_SECONDS),
            transport=transport,
            retry=retry,
            timeout=settings.http_timeout_seconds,
            deadline=settings.http_deadline_seconds,
        )

    def stream_names(self) -> tuple[str, ...]:
        return tuple(STREAMS)

    def read_pages(self, entity: str, state: StreamState, options: ReadOptions) -> Iterator[Page]:
        if options.since is not None or options.until is not None:
            raise ConfigError(NO_BACKFILL)
        stream = STREAMS[entity]
        if stream.paging == "category":
            return walk_id_cursor(
                self.client, stream.path, page_size=self.page_size, list_key="categories"
            )
        after = 0 if options.full or state.last_version is None else state.last_version
        return walk_versions(
            self.client,
            stream.path,
            after=after,
            page_size=self.page_size,
            extra_params={"deleted": True} if stream.include_deleted else None,
        )

    def check(self) -> str:
        """One cheap authenticated request; returns what it saw."""
        payload = self.client.get_json("/outlets", {"page_size": 1})
        count = len(page_records(payload, lightspeed_list_shape("/outlets")))
        return f"token accepted ({count} outlet(s) on the first page)"

    def reconcile_records(self, windows: list[LocationWindow]) -> Iterator[dict[str, Any]]:
        """The POS's closed, live sales of each outlet's window, from `/search` (offset
        paging, at most 1000 a page)."""
        shape = lightspeed_list_shape("/search")
        for window in windows:
            start, end = window.utc_bounds()
            offset = 0
            while True:
                payload = self.client.get_json(
                    "/search",
                    {
                        "type": "sales",
                        "outlet_id": window.location_id,
                        "status": "CLOSED",
                        "date_from": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
                        "date_to": end.strftime("%Y-%m-%dT%H:%M:%SZ"),
                        "page_size": SEARCH_PAGE_SIZE,
                        "offset": offset,
                    },
                )
                records = page_records(payload, shape)
                yield from records
                if len(records) < SEARCH_PAGE_SIZE:
                    break
                offset += len(records)
