"""Locations and the catalog.

- Locations and categories are read in full every run (ListLocations, ListCatalog): the last
  page says the snapshot is complete, so a row not seen is gone at Square.
- Items and variations are searched incrementally (SearchCatalogObjects, one object type per
  stream) with `begin_time` and deleted objects included, so deletions arrive as
  `is_deleted`. The watermark is Square's `latest_time` from the run's first answer.
- A full run of items or variations (the deep pass) lists the whole type with ListCatalog,
  which leaves deleted objects out: anything stored but not listed is marked deleted.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from possync.sources.base import CursorAdvance, Page, ReadOptions, StreamState
from possync.sources.http import ApiClient
from possync.sources.square.api import (
    CATALOG_LIST_PATH,
    CATALOG_SEARCH_PATH,
    LOCATIONS_PATH,
    call,
    latest_time,
    parse_time,
    records_of,
    square_time,
)
from possync.sources.square.walk import walk_query

SEARCH_KIND = "catalog_search"
LIST_KIND = "catalog_list"


def read_locations(client: ApiClient) -> Iterator[Page]:
    """Every location, in one answer (ListLocations has no pages)."""
    payload = call(client, "GET", LOCATIONS_PATH)
    records = records_of(payload, "locations", f"GET {LOCATIONS_PATH}")
    yield Page(records, CursorAdvance(), complete_snapshot=True)


def _list_pages(client: ApiClient, object_type: str) -> Iterator[tuple[list[Any], bool]]:
    """(records, is_last) of ListCatalog for one type; a refused cursor restarts the list."""

    def fetch(_start_from: str | None, cursor: str | None) -> dict[str, Any]:
        return call(
            client, "GET", CATALOG_LIST_PATH, params={"types": object_type, "cursor": cursor}
        )

    for answered in walk_query(fetch, list_key="objects", where=f"GET {CATALOG_LIST_PATH}"):
        yield answered.records, answered.next_cursor is None


def read_categories(client: ApiClient) -> Iterator[Page]:
    """Every category (ListCatalog leaves deleted ones out: the snapshot marks them)."""
    for records, last in _list_pages(client, "CATEGORY"):
        if records or last:
            yield Page(records, CursorAdvance(), complete_snapshot=last)


def read_catalog_objects(
    client: ApiClient,
    object_type: str,
    state: StreamState,
    options: ReadOptions,
    *,
    overlap: timedelta,
    limit: int,
) -> Iterator[Page]:
    """One catalog object type: searched since the watermark, or listed in full."""
    stored = state.run_cursor or {}
    if options.full or stored.get("kind") == LIST_KIND:
        # A reconcile that was cut short starts its list again: its snapshot must be whole.
        yield from _reconcile(client, object_type, stored if not options.full else {})
        return
    if stored.get("kind") == SEARCH_KIND:
        begin, latest, cursor = stored.get("begin"), stored.get("latest"), stored.get("cursor")
    else:
        begin = square_time(state.watermark - overlap) if state.watermark else None
        latest, cursor = None, None
    yield from _search(client, object_type, begin, latest, cursor, limit)


def _search(
    client: ApiClient,
    object_type: str,
    begin: str | None,
    latest: str | None,
    cursor: str | None,
    limit: int,
) -> Iterator[Page]:

    def fetch(_start_from: str | None, page_cursor: str | None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "object_types": [object_type],
            "include_deleted_objects": True,
            "limit": limit,
        }
        if begin:
            body["begin_time"] = begin  # exclusive: the overlap re-reads the boundary
        if page_cursor:
            body["cursor"] = page_cursor
        return call(client, "POST", CATALOG_SEARCH_PATH, body=body)

    newest: datetime | None = None
    pages = walk_query(fetch, list_key="objects", where=f"{object_type} search", cursor=cursor)
    for answered in pages:
        if latest is None:  # Square's clock when the run began: the next watermark
            answered_latest = parse_time(answered.payload.get("latest_time"))
            latest = square_time(answered_latest) if answered_latest else None
        newest = latest_time(answered.records, "updated_at", newest)
        if answered.next_cursor is not None:
            position = {
                "kind": SEARCH_KIND,
                "begin": begin,
                "latest": latest,
                "cursor": answered.next_cursor,
            }
            if answered.records:
                yield Page(answered.records, CursorAdvance(run_cursor=position))
            continue
        mark = parse_time(latest) or newest
        yield Page(answered.records, CursorAdvance(watermark=mark, run_cursor=None))


def probe_latest_time(client: ApiClient, object_type: str) -> str | None:
    """Square's `latest_time` (when the catalog last changed), from a one-object search."""
    body = {"object_types": [object_type], "include_deleted_objects": True, "limit": 1}
    payload = call(client, "POST", CATALOG_SEARCH_PATH, body=body)
    records_of(payload, "objects", f"{object_type} search")  # refuses an answer that is no page
    moment = parse_time(payload.get("latest_time"))
    return square_time(moment) if moment else None


def _reconcile(client: ApiClient, object_type: str, stored: dict[str, Any]) -> Iterator[Page]:
    # Taken before the list: a change made while we list is newer and comes with the next run.
    latest = stored.get("latest") or probe_latest_time(client, object_type)
    position = {"kind": LIST_KIND, "latest": latest}
    newest: datetime | None = None
    for records, last in _list_pages(client, object_type):
        newest = latest_time(records, "updated_at", newest)
        if last:
            mark = parse_time(latest) or newest
            advance = CursorAdvance(watermark=mark, run_cursor=None)
            yield Page(records, advance, snapshot=True, complete_snapshot=True)
        elif records:
            yield Page(records, CursorAdvance(run_cursor=position), snapshot=True)
