"""The `possync.sync` task: runs the engine for one source and one entity (or every entity of
the source), records what the job did for the jobs page, and tells procrastinate whether a
failure is worth a retry.

The engine's advisory lock per (source, entity) stays underneath the job locks as the last line
of defence (a job for "everything" and one for a single entity hold different job locks).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import psycopg
from procrastinate import App, JobContext, RetryStrategy
from procrastinate.exceptions import JobAborted

from possync.config.settings import Settings
from possync.db.connection import Database
from possync.db.queries import query
from possync.errors import DatabaseError, PossyncError, SyncLockedError
from possync.jobs.names import ENVIRONMENT_SHOP_ARG, EVERY_ENTITY, QUEUE, SYNC_TASK
from possync.jobs.shop_target import (
    ShopGone,
    ShopPaused,
    job_target,
    oauth_source,
    shop_schema_database,
)

if TYPE_CHECKING:
    from possync.engine.run import EntityResult, SyncReport
    from possync.sources.base import Source

logger = logging.getLogger(__name__)


class SyncJobFailed(PossyncError):
    """A job's run ended with failed entities for a reason a person must fix (not retried)."""


class TransientSyncFailure(SyncJobFailed):
    """A job's run failed for a reason that may pass (server error, timeout): retried."""


RETRYABLE = (TransientSyncFailure, SyncLockedError, DatabaseError, psycopg.OperationalError)


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
        shop: str = ENVIRONMENT_SHOP_ARG,
    ) -> dict[str, Any]:
        try:
            target = job_target(settings, db, shop, trigger)
            api = oauth_source(settings, db, target, source)  # renews on a 401
        except (ShopGone, ShopPaused) as reason:
            logger.info("job %s: %s", context.job.id, reason)
            return {"records": 0, "entities": [], "skipped": str(reason)}
        except PossyncError as exc:  # its secrets unreadable, say: the jobs page says why
            if context.job.id is not None:
                attempt = context.job.attempts + 1
                outcomes = shop_schema_database(db, shop)
                record_outcome(outcomes, context.job.id, source, entity, attempt, None, str(exc))
            raise
        return run_sync_job(
            target.settings, target.db, context, source, entity, full=full, trigger=trigger,
            api=api,
        )  # fmt: skip

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
    api: Source | None = None,
) -> dict[str, Any]:
    """Run the engine for one job; raise so procrastinate records a failure (and retries).
    `api`: the source to read (closed here); None: the engine opens it from the settings."""
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
        report = run_sync(settings, db, request, on_progress=stop_between_entities, source=api)
    except PossyncError as exc:  # stopped everything (database gone, bad entity): keep why
        if job_id is not None:
            record_outcome(db, job_id, source, entity, attempt, None, str(exc), context.worker_name)
        raise
    finally:
        if api is not None:
            api.close()
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
            query("record_job_outcome"),
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
    """Alerts after a run; they never fail the job."""
    from possync.notify import after_sync

    try:
        after_sync(settings, db, report)
    except Exception:
        logger.exception("sending alerts after the sync failed")
