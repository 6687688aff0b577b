"""Sync jobs on procrastinate, in possync's own PostgreSQL database.

One task, `possync.sync`, runs the engine for one source and one entity (or every entity of the
source). Each job carries two locks named after (source, entity):

- `queueing_lock`: at most one such job waits in the queue, so repeated clicks don't pile up
  (a second click while one waits is answered "already queued");
- `lock`: procrastinate never runs two jobs with the same lock at once, on any worker.

The engine's advisory lock per (source, entity) stays underneath as the last line of defence
(a job for "everything" and one for a single entity hold different job locks).

Periodic schedules (`jobs_schedule.py`) only *defer* jobs, so a scheduled run and a click
share the same locks. The reconciliation job is in `jobs_reconcile.py`, workers in
`jobs_worker.py`, procrastinate's tables in `jobs_schema.py`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import psycopg
from procrastinate import App, JobContext, PsycopgConnector, RetryStrategy
from procrastinate.exceptions import AlreadyEnqueued, JobAborted
from psycopg import sql
from psycopg_pool import NullConnectionPool

from possync.config.settings import Settings
from possync.db.connection import APPLICATION_NAME, CONNECT_TIMEOUT_SECONDS, Database
from possync.errors import DatabaseError, PossyncError, SyncLockedError
from possync.sources.registry import configured_sources, sync_target

if TYPE_CHECKING:
    from possync.engine.run import EntityResult, SyncReport

logger = logging.getLogger(__name__)

QUEUE = "possync"
SYNC_TASK = "possync.sync"
EVERY_ENTITY = ""  # the `entity` argument meaning "every entity of the source"


class SyncJobFailed(PossyncError):
    """A job's run ended with failed entities for a reason a person must fix (not retried)."""


class TransientSyncFailure(SyncJobFailed):
    """A job's run failed for a reason that may pass (server error, timeout): retried."""


RETRYABLE = (TransientSyncFailure, SyncLockedError, DatabaseError, psycopg.OperationalError)


@dataclass(frozen=True)
class Enqueued:
    """The answer to "sync now": the job's id, or None when one was already waiting."""

    source: str
    entity: str
    job_id: int | None

    @property
    def already_queued(self) -> bool:
        return self.job_id is None

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "entity": self.entity or None,
            "job_id": self.job_id,
            "already_queued": self.already_queued,
        }


def sync_lock(source: str, entity: str) -> str:
    """The lock (and queueing lock) of a sync job for (source, entity)."""
    return f"possync:sync:{source}:{entity or '*'}"


def _search_path_statement(schema: str) -> sql.Composed:
    return sql.SQL("SET search_path TO {}, public").format(sql.Identifier(schema))


CONNECTION_KWARGS: dict[str, Any] = {
    "connect_timeout": CONNECT_TIMEOUT_SECONDS,
    "application_name": f"{APPLICATION_NAME}-jobs",
}


def build_job_app(
    settings: Settings, db: Database, *, schedules: bool = False, max_pool_size: int = 4
) -> App:
    """A procrastinate App for `db` with possync's tasks (and, if asked, its schedules).

    The connector is procrastinate's async psycopg one: workers need it, and deferring from
    synchronous code works through `JobQueue`, which opens it on a synchronous pool.
    """
    schema_statement = _search_path_statement(db.schema)

    async def put_schema_first(conn: psycopg.AsyncConnection[Any]) -> None:
        await conn.execute(schema_statement)
        if not conn.autocommit:
            await conn.commit()

    connector = PsycopgConnector(
        conninfo=db.url,
        kwargs=CONNECTION_KWARGS,
        configure=put_schema_first,
        min_size=1,
        max_size=max_pool_size,
    )
    app = App(connector=connector)
    register_sync_task(app, settings, db)
    from possync.jobs.reconcile import register_reconcile_task

    register_reconcile_task(app, settings, db)
    if schedules:
        from possync.jobs.schedule import register_schedules

        register_schedules(app, settings)
    return app


def register_sync_task(app: App, settings: Settings, db: Database) -> None:
    """Add `possync.sync` to `app`; the task closes over the settings and the database."""
    retry = RetryStrategy(
        max_attempts=settings.job_max_attempts,
        exponential_wait=settings.job_retry_base_seconds,
        retry_exceptions=RETRYABLE,
    )

    def sync_job(
        context: JobContext,
        source: str,
        entity: str = EVERY_ENTITY,
        full: bool = False,
        trigger: str = "manual",
    ) -> dict[str, Any]:
        return run_sync_job(settings, db, context, source, entity, full=full, trigger=trigger)

    app.task(name=SYNC_TASK, queue=QUEUE, pass_context=True, retry=retry)(sync_job)


def run_sync_job(
    settings: Settings,
    db: Database,
    context: JobContext,
    source: str,
    entity: str,
    *,
    full: bool,
    trigger: str,
) -> dict[str, Any]:
    """Run the engine for one job; raise so procrastinate records a failure (and retries)."""
    from possync.engine.run import EntityProgress, SyncRequest, run_sync

    what = f"{source} {entity or 'everything'}"

    def stop_between_entities(progress: EntityProgress) -> None:
        # A worker shutting down lets the current entity finish, then stops: nothing is left
        # half-done, and the next run picks up the remaining entities.
        if progress.done and context.should_abort():
            raise JobAborted(f"sync of {what} stopped by the worker after {progress.entity}")

    job_id = context.job.id
    attempt = context.job.attempts + 1
    logger.info("job %s (attempt %s): sync %s, %s", job_id, attempt, what, trigger)
    request = SyncRequest(source=source, entities=(entity,) if entity else (), full=full)
    try:
        report = run_sync(settings, db, request, on_progress=stop_between_entities)
    except PossyncError as exc:  # stopped everything (database gone, bad entity): keep why
        if job_id is not None:
            record_outcome(db, job_id, source, entity, attempt, None, str(exc), context.worker_name)
        raise
    _notify(settings, db, report)
    failed = report.failed
    skipped = [r for r in report.results if r.status == "skipped"]
    error: str | None = None
    if failed:
        error = "; ".join(f"{r.entity}: {r.error}" for r in failed)
    elif report.results and len(skipped) == len(report.results):
        error = f"{what} is being synced by another job; retrying later"
    if job_id is not None:
        record_outcome(db, job_id, source, entity, attempt, report, error, context.worker_name)
    if failed:
        # Server errors, timeouts and rate limits may pass by themselves: retry those. A
        # rejected token, bad data or a broken pagination needs a person: fail at once.
        if all(r.transient for r in failed):
            raise TransientSyncFailure(error or "sync failed")
        raise SyncJobFailed(error or "sync failed")
    if error:
        raise SyncLockedError(error)
    return {
        "records": sum(r.records for r in report.results),
        "entities": [r.entity for r in report.results],
    }


def record_outcome(
    db: Database,
    job_id: int,
    source: str,
    entity: str,
    attempt: int,
    report: SyncReport | None,
    error: str | None,
    worker: str | None = None,
) -> None:
    """Keep what a job did next to its id, for the jobs page (best effort: the database may
    be what failed)."""
    results = report.results if report is not None else []
    try:
        _write_outcome(db, job_id, source, entity, attempt, results, error, worker)
    except (PossyncError, psycopg.Error) as exc:
        logger.warning("could not record the outcome of job %s: %s", job_id, exc)


def _write_outcome(
    db: Database,
    job_id: int,
    source: str,
    entity: str,
    attempt: int,
    results: list[EntityResult],
    error: str | None,
    worker: str | None,
) -> None:
    with db.connect() as conn:
        conn.execute(
            """INSERT INTO sync_job_outcomes
                   (job_id, source, entity_type, attempt, ok, records, failed, skipped, error,
                    run_ids, worker, finished_at)
               VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, now())
               ON CONFLICT (job_id) DO UPDATE SET
                   attempt = EXCLUDED.attempt, ok = EXCLUDED.ok, records = EXCLUDED.records,
                   failed = EXCLUDED.failed, skipped = EXCLUDED.skipped,
                   error = EXCLUDED.error, run_ids = EXCLUDED.run_ids,
                   worker = EXCLUDED.worker, finished_at = EXCLUDED.finished_at""",
            (
                job_id,
                source,
                entity or None,
                attempt,
                error is None,
                sum(r.records for r in results),
                sum(1 for r in results if r.status == "failed"),
                sum(1 for r in results if r.status == "skipped"),
                error,
                [r.run_id for r in results if r.status != "skipped"],
                worker,
            ),
        )
        conn.commit()


def _notify(settings: Settings, db: Database, report: SyncReport) -> None:
    """Alerts after a run, when the alerts module offers them; they never fail the job."""
    from possync import notify

    after_sync = getattr(notify, "after_sync", None)
    if after_sync is None:
        return
    try:
        after_sync(settings, db, report)
    except Exception:
        logger.exception("sending alerts after the sync failed")


class JobQueue:
    """Defers sync jobs from synchronous code (dashboard, CLI).

    Connects per call (no pool kept open), so an unreachable database fails fast with a
    DatabaseError instead of waiting on a pool.
    """

    def __init__(self, settings: Settings, db: Database) -> None:
        self.settings = settings
        self.db = db
        self._app: App | None = None
        self._pool: NullConnectionPool[Any] | None = None

    def app(self) -> App:
        """The procrastinate App, opened on first use (to defer other tasks by name)."""
        return self._open()

    def _open(self) -> App:
        if self._app is None:
            schema_statement = _search_path_statement(self.db.schema)

            def put_schema_first(conn: psycopg.Connection[Any]) -> None:
                conn.execute(schema_statement)
                if not conn.autocommit:
                    conn.commit()

            pool: NullConnectionPool[Any] = NullConnectionPool(
                self.db.url,
                kwargs=CONNECTION_KWARGS,
                configure=put_schema_first,
                max_size=4,
                timeout=CONNECT_TIMEOUT_SECONDS,
                open=True,
            )
            app = build_job_app(self.settings, self.db)
            app.open(pool)
            self._app, self._pool = app, pool
        return self._app

    def enqueue_sync(
        self,
        source: str,
        entity: str = EVERY_ENTITY,
        *,
        full: bool = False,
        trigger: str = "manual",
    ) -> Enqueued:
        """Queue a sync of (source, entity); None as id when one is already waiting."""
        entity = sync_target(source, entity) if entity else EVERY_ENTITY
        app = self._open()
        lock = sync_lock(source, entity)
        deferrer = app.configure_task(SYNC_TASK, lock=lock, queueing_lock=lock, queue=QUEUE)
        try:
            job_id = deferrer.defer(source=source, entity=entity, full=full, trigger=trigger)
        except AlreadyEnqueued:
            return Enqueued(source, entity, None)
        except Exception as exc:
            raise _as_database_error(self.db, exc) from None
        return Enqueued(source, entity, job_id)

    def enqueue_everything(self, *, trigger: str = "manual") -> list[Enqueued]:
        """A job per configured source, each syncing every entity in dependency order."""
        return [
            self.enqueue_sync(source, trigger=trigger)
            for source in configured_sources(self.settings)
        ]

    def close(self) -> None:
        if self._app is not None:
            self._app.close()
        if self._pool is not None:
            self._pool.close()
        self._app = self._pool = None


def _as_database_error(db: Database, exc: Exception) -> Exception:
    from possync.db.connection import unreachable_message

    if isinstance(exc, PossyncError):
        return exc
    cause = exc.__cause__ if exc.__cause__ is not None else exc
    return DatabaseError(unreachable_message(db.url, cause))
