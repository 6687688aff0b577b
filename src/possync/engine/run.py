"""The sync engine: joins a source (HTTP) to the loader (PostgreSQL), one transaction per page.

For each entity, in dependency order: take the entity's advisory lock, read its cursor,
choose the run's writer (`writer`), walk the source's pages (`walk`: the next one fetched
while the current one is validated and the previous one written), and commit the page's rows,
its quarantined records, the cursor advance and the run's counters together.
A crash at any instant loses nothing and duplicates nothing: the next run resumes from the last
committed page, and upserts never regress.
"""

from __future__ import annotations

import contextlib
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import psycopg
from psycopg import sql

from possync.config.settings import Settings
from possync.db.access import ensure_schema_exists
from possync.db.connection import Database, translate_database_error
from possync.db.locks import try_lock_entity, unlock_entity
from possync.db.queries import template
from possync.db.rollups import refresh_rollups
from possync.db.state import (
    RunCounters,
    begin_run,
    ensure_state_rows,
    finish_run,
    read_stream_state,
    reset_cursor,
    set_record_total,
)
from possync.engine.failures import failure_message, sweep_abandoned_runs
from possync.engine.page_commit import WalkTarget
from possync.engine.quarantine import QuarantineStop
from possync.engine.walk import WalkPlan, walk
from possync.engine.writer import Writers
from possync.errors import (
    AuthError,
    DatabaseError,
    RateLimitedError,
    TransientError,
)
from possync.load.loader import has_quarantined, quarantine_records
from possync.sources.base import ReadOptions, Source, StreamState
from possync.sources.registry import (
    child_entities_for,
    entities_for,
    open_source,
    resolve_entities,
    tables_for,
)
from possync.tables.spec import TableSpec

log = logging.getLogger(__name__)

# Runs that read much: their pages go to the writer process (see `writer`).
BULK_ACTIONS = ("historical_import", "full_refresh", "backfill")

__all__ = [
    "EntityProgress",
    "EntityResult",
    "SyncReport",
    "SyncRequest",
    "run_sync",
]


@dataclass(frozen=True)
class SyncRequest:
    source: str
    entities: tuple[str, ...] = ()
    full: bool = False
    dry_run: bool = False
    force: bool = False
    since: date | None = None
    until: date | None = None


@dataclass
class EntityProgress:
    source: str
    entity: str
    run_id: uuid.UUID
    records: int
    pages: int
    elapsed_seconds: float
    estimated_total: int | None
    done: bool = False


@dataclass
class EntityResult:
    source: str
    entity: str
    run_id: uuid.UUID
    status: str  # completed | failed | skipped
    action: str
    counters: RunCounters = field(default_factory=RunCounters)  # as sync_log has them
    duration_seconds: float = 0.0
    error: str | None = None
    # A failure that may pass by itself (server errors, timeouts, rate limits): worth a retry.
    transient: bool = False

    @property
    def records(self) -> int:
        return self.counters.records

    @property
    def pages(self) -> int:
        return self.counters.pages

    @property
    def requests(self) -> int:
        return self.counters.requests

    @property
    def retries(self) -> int:
        return self.counters.retries

    @property
    def quarantined(self) -> int:
        return self.counters.quarantined


@dataclass
class SyncReport:
    source: str
    dry_run: bool
    results: list[EntityResult] = field(default_factory=list)
    # The business pages' rollups could not be refreshed after the run (its data committed;
    # the days stay marked stale, so the next sync or page view refreshes them).
    rollup_error: str | None = None

    @property
    def ok(self) -> bool:
        return all(r.status != "failed" for r in self.results)

    @property
    def failed(self) -> list[EntityResult]:
        return [r for r in self.results if r.status == "failed"]


ProgressCallback = Callable[[EntityProgress], None]


def run_sync(
    settings: Settings,
    db: Database,
    request: SyncRequest,
    *,
    on_progress: ProgressCallback | None = None,
    source: Source | None = None,
) -> SyncReport:
    """Sync the requested entities of one source. Never raises for an entity's failure: the
    report says which failed. Raises for what stops everything (database gone, bad config)."""
    entities = resolve_entities(request.source, request.entities)
    own_source = source is None
    active_source = source or open_source(settings, request.source)
    report = SyncReport(request.source, request.dry_run)
    writers = Writers(db, use_process=settings.writer_process)
    try:
        with db.connect() as conn:
            try:
                ensure_schema_exists(conn, db.schema)
                if not request.dry_run:
                    ensure_state_rows(conn, request.source, list(entities_for(request.source)))
                    conn.commit()
                    sweep_abandoned_runs(conn, request.source)
                failing_in_a_row = 0
                for position, entity in enumerate(entities):
                    result = _sync_entity(
                        conn, db.url, settings, active_source, request, entity, writers, on_progress
                    )
                    report.results.append(result)
                    if result.status == "failed" and result.error and _is_critical(result):
                        break
                    passing = result.status == "failed" and result.transient
                    failing_in_a_row = failing_in_a_row + 1 if passing else 0
                    if failing_in_a_row >= FAILING_ENTITIES_IN_A_ROW:
                        rest = entities[position + 1 :]
                        report.results.extend(_not_attempted(request, rest, failing_in_a_row))
                        break
                if not request.dry_run:
                    report.rollup_error = _refresh_rollups(conn, request.source)
            except psycopg.Error as exc:
                raise translate_database_error(db.url, exc) from None
    finally:
        writers.close()
        if own_source:
            active_source.close()
    return report


def _refresh_rollups(conn: psycopg.Connection[Any], source: str) -> str | None:
    """Refresh the days the run touched; a failure is reported, and never undoes the run."""
    try:
        refresh_rollups(conn, source)
        conn.commit()
    except psycopg.OperationalError:
        raise  # the database is gone: the run's failure, said as such
    except psycopg.Error as exc:
        _rollback_quietly(conn)
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        log.warning("the business pages' rollups were not refreshed: %s", reason)
        return reason
    return None


# Entities in a row whose requests kept failing for a passing reason (server errors,
# timeouts) after their retries: the source's API is down, and each further entity would
# hold the job (and a worker slot other shops wait for) through its own retries.
FAILING_ENTITIES_IN_A_ROW = 2


def _not_attempted(request: SyncRequest, entities: list[str], failed: int) -> list[EntityResult]:
    reason = (
        f"not attempted: {request.source}'s API failed {failed} entities in a row; "
        "the next run tries again"
    )
    return [
        EntityResult(request.source, entity, uuid.uuid4(), "skipped", "none", error=reason)
        for entity in entities
    ]


def _is_critical(result: EntityResult) -> bool:
    return result.error is not None and result.error.startswith("critical: ")


def _action_for(request: SyncRequest, state: StreamState) -> str:
    if request.since or request.until:
        return "backfill"
    if request.full:
        return "full_refresh"
    if state.last_version is None and state.watermark is None and state.run_cursor is None:
        return "historical_import"
    return "incremental_sync"


def _sync_entity(
    conn: psycopg.Connection[Any],
    db_url: str,
    settings: Settings,
    source: Source,
    request: SyncRequest,
    entity: str,
    writers: Writers,
    on_progress: ProgressCallback | None,
) -> EntityResult:
    spec = tables_for(request.source)[entity]
    run_id = uuid.uuid4()
    target = WalkTarget(
        request.source, entity, run_id, (entity, *child_entities_for(request.source, entity))
    )
    state_entities = list(target.state_entities)
    state = read_stream_state(conn, request.source, entity)
    conn.commit()
    action = _action_for(request, state)
    counters = RunCounters()
    result = EntityResult(request.source, entity, run_id, "completed", action, counters)
    if not request.dry_run and not try_lock_entity(conn, request.source, entity):
        conn.commit()
        result.status = "skipped"
        result.error = f"another {request.source} {entity} sync is running"
        return result
    started = time.monotonic()

    def report(snapshot: RunCounters, *, done: bool = False) -> None:
        if on_progress is not None:
            on_progress(
                EntityProgress(
                    request.source,
                    entity,
                    run_id,
                    snapshot.records,
                    snapshot.pages,
                    time.monotonic() - started,
                    snapshot.estimated_total,
                    done=done,
                )
            )

    try:
        if not request.dry_run:
            if request.full:
                reset_cursor(conn, request.source, state_entities)
            begin_run(
                conn,
                run_id=run_id,
                source=request.source,
                entities=state_entities,
                action=action,
            )
            conn.commit()
        if request.full:
            # Neither POS reports how many records a walk holds: a full refresh expects about
            # as many as are stored, which gives the progress line its ETA.
            counters.estimated_total = _count(conn, spec.table) or None
            conn.commit()
        options = ReadOptions(full=request.full, since=request.since, until=request.until)
        plan = WalkPlan(target, spec, state, options, settings, force=request.force)
        writer = None
        if not request.dry_run:
            # Chosen once, here: a snapshot table without a cursor (read whole every run) is
            # no bulk run unless --full.
            bulk = action in BULK_ACTIONS and (spec.guard is not None or request.full)
            writer = writers.open(
                conn,
                target,
                quarantine_in_use=has_quarantined(conn, request.source, entity),
                bulk=bulk,
                on_commit=report,
            )
        walk(source, plan, counters, writer, report)
        if not request.dry_run:
            finish_run(
                conn,
                run_id=run_id,
                source=request.source,
                entities=state_entities,
                counters=counters,
                error=None,
            )
            _store_totals(conn, request.source, entity, spec)
            conn.commit()
    except Exception as exc:  # whatever ends the run is recorded (a bug too), in one line
        _rollback_quietly(conn)
        message = failure_message(exc, db_url)
        critical = isinstance(exc, AuthError | DatabaseError | psycopg.OperationalError)
        result.status = "failed"
        result.error = f"critical: {message}" if critical else message
        result.transient = isinstance(exc, TransientError | RateLimitedError)
        if isinstance(exc, psycopg.OperationalError) or conn.closed:
            raise DatabaseError(message) from None
        if not request.dry_run:
            if isinstance(exc, QuarantineStop):  # the stopping page's records, not its rows
                quarantine_records(conn, request.source, entity, exc.rejected, run_id)
            finish_run(
                conn,
                run_id=run_id,
                source=request.source,
                entities=state_entities,
                counters=counters,
                error=message,
            )
            conn.commit()
    finally:
        if not request.dry_run and not conn.closed:
            _rollback_quietly(conn)
            unlock_entity(conn, request.source, entity)
            conn.commit()
    result.duration_seconds = time.monotonic() - started
    report(counters, done=True)
    return result


def _store_totals(conn: psycopg.Connection[Any], source: str, entity: str, spec: TableSpec) -> None:
    set_record_total(conn, source, entity, _count(conn, spec.table))
    for child_entity, child in zip(child_entities_for(source, entity), spec.children, strict=False):
        set_record_total(conn, source, child_entity, _count(conn, child.table.table))


def _count(conn: psycopg.Connection[Any], table: str) -> int:
    row = conn.execute(template("count_rows").format(table=sql.Identifier(table))).fetchone()
    return int(row[0]) if row else 0


def _rollback_quietly(conn: psycopg.Connection[Any]) -> None:
    if conn.closed:
        return
    with contextlib.suppress(psycopg.Error):
        conn.rollback()
