"""Walking one Square query page by page, surviving expired cursors.

Square cursors have a limited lifetime and only work with the query they came from. When one
is refused (`INVALID_CURSOR`), the query starts again: for a query sorted ascending on a time
field, from the last value seen (the records at that instant are read twice, which upserts
make harmless); for any other query, from its beginning.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from possync.errors import PaginationError
from possync.sources.square.api import CursorExpiredError, records_of

log = logging.getLogger(__name__)

# Restarts of one query that brought it no further before we give up.
MAX_FRUITLESS_RESTARTS = 8

# fetch(start_from, cursor) -> the page's JSON object
Fetch = Callable[[str | None, str | None], dict[str, Any]]


@dataclass(frozen=True)
class QueryPage:
    """One answered request and where the query stands after it."""

    records: list[Any]
    payload: dict[str, Any]
    query_from: str | None  # the narrowed start the current cursor belongs to
    next_cursor: str | None  # None: the query is exhausted
    restart_from: str | None  # where to start again if the cursor is refused


def walk_query(
    fetch: Fetch,
    *,
    list_key: str,
    where: str,
    start_from: str | None = None,
    cursor: str | None = None,
    restart_from: str | None = None,
    narrow_field: str | None = None,
) -> Iterator[QueryPage]:
    """Pages of one query until Square sends no cursor. `narrow_field` is the field the
    query is sorted on, ascending, with an inclusive start filter that `fetch` applies."""
    if restart_from is None:
        restart_from = start_from
    restarts = 0
    restarted_at = restart_from
    pages = furthest = 0  # pages read since the last (re)start; the most any attempt read
    seen_cursors: set[str] = set()
    while True:
        try:
            payload = fetch(start_from, cursor)
        except CursorExpiredError:
            if cursor is None:
                raise
            # Progress: a narrowed restart starts later, a full one got further than before.
            if narrow_field:
                progressed = restart_from != restarted_at
            else:
                progressed, furthest = pages > furthest, max(pages, furthest)
            restarts = 0 if progressed else restarts + 1
            if restarts > MAX_FRUITLESS_RESTARTS:
                raise
            log.info("%s: cursor refused, restarting the query", where)
            restarted_at = restart_from
            pages = 0
            if narrow_field:
                start_from = restart_from
            cursor = None
            seen_cursors.clear()
            continue
        records = records_of(payload, list_key, where)
        pages += 1
        next_cursor = payload.get("cursor") or None
        if next_cursor is not None:
            if not isinstance(next_cursor, str) or next_cursor in seen_cursors:
                raise PaginationError(f"{where}: the cursor repeats or is not a string")
            seen_cursors.add(next_cursor)
        if records and narrow_field:
            last = records[-1]
            value = last.get(narrow_field) if isinstance(last, dict) else None
            if isinstance(value, str) and value:
                restart_from = value
        yield QueryPage(records, payload, start_from, next_cursor, restart_from)
        if next_cursor is None:
            return
        cursor = next_cursor
