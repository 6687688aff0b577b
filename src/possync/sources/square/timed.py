"""Time-windowed Square streams: orders, customers, payments, refunds, inventory counts.

A run reads one window, `[watermark − lookback, end]`, over one or more partitions (orders:
chunks of at most 10 locations; payments: one location at a time; the rest: all at once).
Every page commits the run's position (`run_cursor`: window, partitions, which partition,
its query start and cursor), so a killed run resumes where it stopped and with the same
window. Only the last page of the last partition promotes the watermark, to Square's clock at
run start, never the machine's: for orders the newest `updated_at` then (the window's fixed
end), otherwise the `Date` of the run's first answer. Anything changed while the run reads is
newer, so the next window, starting a lookback earlier, holds it however long the run took.
A resumed run is followed at once by a new window, so the first run after a crash is current.

Backfill (`--since/--until`, orders) reads a `created_at` range and leaves the watermark and
any unfinished run's position exactly as they were.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time, timedelta
from typing import Any, Literal

from possync.sources.base import CursorAdvance, Page, ReadOptions, StreamState
from possync.sources.http import ApiClient
from possync.sources.square.api import latest_time, list_location_ids, parse_time, square_time
from possync.sources.square.walk import walk_query

log = logging.getLogger(__name__)

RUN_KIND = "window"


@dataclass(frozen=True)
class TimedQuery:
    """One partition's query, as a stream's `fetch` turns it into a request."""

    locations: list[str] | None
    begin: str | None  # the window's start (inclusive)
    end: str | None  # the window's end (inclusive), None: open
    start_from: str | None  # a later start after a refused cursor (the sort field)
    cursor: str | None
    limit: int


@dataclass(frozen=True)
class TimedStream:
    entity: str
    list_key: str
    fetch: Callable[[ApiClient, TimedQuery], dict[str, Any]]
    clock_field: str  # the record's change time: the newest one seen is Square's clock
    narrow_field: str | None  # ascending sort field a refused cursor restarts from
    partition: Literal["all", "location", "chunk"] = "all"
    # orders: the newest change time in a partition at run start (fixes the window's end)
    probe: Callable[[ApiClient, list[str] | None], datetime | None] | None = None
    max_limit: int = 1000
    # Square deletes these outright: a full run reads them all and marks the rest deleted.
    snapshot_on_full: bool = False


@dataclass
class WindowRun:
    """Where a windowed run stands; stored as `run_cursor` after every page."""

    begin: str | None
    end: str | None
    partitions: list[list[str] | None]
    index: int = 0
    start_from: str | None = None
    cursor: str | None = None
    restart_from: str | None = None
    newest: str | None = None
    # open windows: Square's clock at the run's first answer, the watermark it promotes
    mark: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": RUN_KIND,
            "begin": self.begin,
            "end": self.end,
            "partitions": self.partitions,
            "index": self.index,
            "from": self.start_from,
            "cursor": self.cursor,
            "restart_from": self.restart_from,
            "newest": self.newest,
            "mark": self.mark,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> WindowRun | None:
        """A stored position, or None when there is none (or it is not ours)."""
        if not data or data.get("kind") != RUN_KIND or not isinstance(data.get("partitions"), list):
            return None
        return cls(
            begin=data.get("begin"),
            end=data.get("end"),
            partitions=data["partitions"],
            index=int(data.get("index") or 0),
            start_from=data.get("from"),
            cursor=data.get("cursor"),
            restart_from=data.get("restart_from"),
            newest=data.get("newest"),
            mark=data.get("mark"),
        )


def partitions_for(stream: TimedStream, client: ApiClient, chunk: int) -> list[list[str] | None]:
    """The run's partitions, in a stable order (locations sorted by id)."""
    if stream.partition == "all":
        return [None]
    ids = list_location_ids(client)
    if stream.partition == "location":
        return [[location_id] for location_id in ids]
    return [ids[i : i + chunk] for i in range(0, len(ids), chunk)]


def read_timed(
    client: ApiClient,
    stream: TimedStream,
    state: StreamState,
    options: ReadOptions,
    *,
    lookback: timedelta,
    limit: int,
    chunk: int,
) -> Iterator[Page]:
    """Pages of one windowed run (new, resumed, or a backfill), each of about `limit`
    records and carrying the run's position after its last record. A resumed run is
    followed by a new one, so the first run after a crash also brings the newest changes."""
    partitions = partitions_for(stream, client, chunk)
    backfill = options.since is not None or options.until is not None
    snapshot = options.full and stream.snapshot_on_full and not backfill
    resumed = False
    run: WindowRun | None
    if backfill:
        run = WindowRun(*backfill_window(options), partitions=partitions)
    else:
        run = None if options.full else WindowRun.from_json(state.run_cursor)
        resumed = run is not None
        if run is not None and run.end is None and run.mark is None:
            run = _resumed_open_window(run)
        if run is not None and run.partitions != partitions:
            # The locations changed mid-run: same window, every partition again.
            run = WindowRun(run.begin, run.end, partitions, newest=run.newest, mark=run.mark)
        run = run or _new_window(client, stream, state, options, partitions, lookback)
    if run is None or not run.partitions:  # nothing to read: close the run, keep the mark
        yield Page([], CursorAdvance(run_cursor=state.run_cursor if backfill else None))
        return
    settings = _RunSettings(stream, limit, backfill, snapshot)
    watermark = yield from _read_run(client, settings, run, state)
    if resumed and watermark is not None:
        following = replace(state, watermark=watermark, run_cursor=None)
        run = _new_window(client, stream, following, options, partitions, lookback)
        if run is not None and run.partitions:
            yield from _read_run(client, settings, run, following)


@dataclass(frozen=True)
class _RunSettings:
    stream: TimedStream
    limit: int
    backfill: bool
    snapshot: bool


def _read_run(
    client: ApiClient, settings: _RunSettings, run: WindowRun, state: StreamState
) -> Generator[Page, None, datetime | None]:
    """Read `run` to its end; returns the watermark its last page promoted (if any)."""
    stream = settings.stream
    # Square caps some lists at 100: several such answers make one page (one commit).
    batch_size, limit = settings.limit, min(settings.limit, stream.max_limit)
    batch: list[Any] = []
    while run.index < len(run.partitions):
        query = TimedQuery(run.partitions[run.index], run.begin, run.end, None, None, limit)
        pages = walk_query(
            _fetcher(client, stream, query),
            list_key=stream.list_key,
            where=f"{stream.entity} search",
            start_from=run.start_from,
            cursor=run.cursor,
            restart_from=run.restart_from,
            narrow_field=stream.narrow_field,
        )
        for answered in pages:
            if run.end is None and run.mark is None and not settings.backfill:
                run.mark = _start_mark(client, stream)
            newest = latest_time(answered.records, stream.clock_field, parse_time(run.newest))
            run.newest = square_time(newest) if newest else None
            if answered.next_cursor is None:
                run.index += 1
                run.start_from = run.cursor = run.restart_from = None
            else:
                run.start_from = answered.query_from
                run.cursor = answered.next_cursor
                run.restart_from = answered.restart_from
            finished = run.index >= len(run.partitions)
            batch.extend(answered.records)
            if len(batch) >= batch_size or finished:
                advance = _advance(run, state, settings.backfill, finished)
                yield Page(
                    batch,
                    advance,
                    snapshot=settings.snapshot,
                    complete_snapshot=settings.snapshot and finished,
                )
                batch = []
                if finished:
                    return advance.watermark
    return None


def _start_mark(client: ApiClient, stream: TimedStream) -> str | None:
    """Square's clock when the run's first answer left it: the watermark the run promotes.

    Every change the run might pass by (made at a location or position it had already read)
    is newer than this, so the next run, starting a lookback before it, reads it. The newest
    change seen would not do: a run longer than the lookback would skip such changes."""
    moment = client.server_time()
    if moment is None:
        log.warning(
            "%s: Square sent no Date header; the watermark is the newest change seen", stream.entity
        )
        return None
    return square_time(moment)


def _resumed_open_window(run: WindowRun) -> WindowRun:
    """An interrupted run from before runs kept their start mark, picked up again.

    The partitions it finished are not read again, so changes made there since are only
    caught by the next run: the watermark must not pass what this run had seen when it was
    interrupted (those changes are newer, so the next window holds them). Nothing seen yet:
    its finished partitions were empty then, and reading them again costs little."""
    if run.newest is None:
        return WindowRun(run.begin, None, run.partitions)
    return replace(run, end=run.newest)


def _fetcher(
    client: ApiClient, stream: TimedStream, query: TimedQuery
) -> Callable[[str | None, str | None], dict[str, Any]]:
    def fetch(start_from: str | None, cursor: str | None) -> dict[str, Any]:
        return stream.fetch(client, replace(query, start_from=start_from, cursor=cursor))

    return fetch


def _advance(run: WindowRun, state: StreamState, backfill: bool, finished: bool) -> CursorAdvance:
    if backfill:  # a backfill never moves the watermark or an unfinished run's position
        return CursorAdvance(run_cursor=state.run_cursor)
    if not finished:
        return CursorAdvance(run_cursor=run.to_json())
    return CursorAdvance(watermark=parse_time(run.end or run.mark or run.newest), run_cursor=None)


def _new_window(
    client: ApiClient,
    stream: TimedStream,
    state: StreamState,
    options: ReadOptions,
    partitions: list[list[str] | None],
    lookback: timedelta,
) -> WindowRun | None:
    """A new run's window; None when the probe finds nothing at all to read."""
    begin = None
    if state.watermark is not None and not options.full:
        begin = square_time(state.watermark - lookback)
    end = None
    if stream.probe is not None:
        newest = [stream.probe(client, part) for part in partitions]
        found = [moment for moment in newest if moment is not None]
        if not found:
            return None
        end = square_time(max(found))
    return WindowRun(begin, end, partitions)


def backfill_window(options: ReadOptions) -> tuple[str | None, str | None]:
    """`created_at` bounds covering the requested local business dates in any time zone:
    from a day before `since` to a day after `until` (UTC), both inclusive."""
    begin = end = None
    if options.since is not None:
        start = datetime.combine(options.since, time(), UTC) - timedelta(days=1)
        begin = square_time(start)
    if options.until is not None:
        stop = datetime.combine(options.until, time(), UTC) + timedelta(days=2)
        end = square_time(stop - timedelta(microseconds=1))
    return begin, end
