"""The periodic tasks: the dispatcher (every minute) and the housekeeping (every 5 minutes).

- `possync.dispatch` queues, for every enabled shop, what its schedules made due
  (`dispatch.py`): incremental syncs (POSSYNC_SCHEDULE_INCREMENTAL, hourly, or the shop's
  own), and the deep pass (POSSYNC_SCHEDULE_DEEP, 02:00 in the shop's zone);
- `possync.maintenance` requeues jobs of dead workers, prunes old jobs and evaluates every
  shop's alerts (staleness even when nothing ran, reminders, the daily summary).

Both are procrastinate periodic tasks in their own queue (`SCHEDULE_QUEUE`) at the highest
priority. procrastinate records each (task, time) it defers, so any number of schedulers defer
each minute's dispatcher once; the dispatcher's own table makes each shop's scheduled time
queued once even if two dispatchers ran. They only defer jobs (with the same locks as a
click); they never sync themselves.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime

from procrastinate import App, JobContext
from procrastinate.exceptions import ConnectorException, UniqueViolation
from procrastinate.jobs import Status
from procrastinate.manager import JobManager

from possync.config.settings import Settings
from possync.db.connection import Database
from possync.jobs.dispatch import dispatch_due
from possync.jobs.names import (
    DEEP_TASK,
    DISPATCH_TASK,
    IMPORT_QUEUE,
    INCREMENTAL_TASK,
    MAINTENANCE_TASK,
    QUEUE,
    SCHEDULE_PRIORITY,
    SCHEDULE_QUEUE,
)
from possync.jobs.queue import JobQueue

logger = logging.getLogger(__name__)

DISPATCH_CRON = "* * * * *"
MAINTENANCE_CRON = "*/5 * * * *"
KEEP_FINISHED_JOBS_HOURS = 24 * 30
KEEP_SCHEDULE_JOBS_HOURS = 24  # a dispatcher job a minute: keep a day of them


def register_schedules(app: App, settings: Settings, db: Database) -> None:
    """The dispatcher and the housekeeping, periodic; `db` is the control database."""

    def dispatch(timestamp: int = 0) -> int:
        """Queue what is due now; returns how many (shop, schedule) times were queued."""
        queue = JobQueue(settings, db)
        try:
            return len(dispatch_due(settings, db, queue, datetime.now(UTC)))
        finally:
            queue.close()

    async def maintenance(context: JobContext, timestamp: int) -> None:
        # Jobs of a worker that died (no heartbeat) would hold their lock forever: requeue them.
        manager = context.app.job_manager
        await requeue_stalled_jobs(manager)
        # Staleness must alert even when nothing ran at all: evaluate health every 5 minutes.
        await asyncio.to_thread(check_alerts, settings, db)
        for queue, hours in (
            (QUEUE, KEEP_FINISHED_JOBS_HOURS),
            (IMPORT_QUEUE, KEEP_FINISHED_JOBS_HOURS),
            (SCHEDULE_QUEUE, KEEP_SCHEDULE_JOBS_HOURS),
        ):
            await manager.delete_old_jobs(
                nb_hours=hours,
                queue=queue,
                include_failed=True,
                include_cancelled=True,
                include_aborted=True,
            )

    # A lock per task: two dispatchers (or two housekeepings) never overlap; the queueing
    # lock keeps one waiting at most while every worker is busy.
    dispatcher = app.task(
        name=DISPATCH_TASK,
        queue=SCHEDULE_QUEUE,
        priority=SCHEDULE_PRIORITY,
        lock=DISPATCH_TASK,
        queueing_lock=DISPATCH_TASK,
    )(dispatch)
    housekeeping = app.task(
        name=MAINTENANCE_TASK,
        pass_context=True,
        queue=SCHEDULE_QUEUE,
        priority=SCHEDULE_PRIORITY,
        lock=MAINTENANCE_TASK,
        queueing_lock=MAINTENANCE_TASK,
    )(maintenance)
    # Jobs of the schedules that came before the dispatcher may wait in an upgraded
    # database: they run the dispatcher.
    for legacy in (INCREMENTAL_TASK, DEEP_TASK):
        app.task(name=legacy, queue=QUEUE, lock=DISPATCH_TASK)(dispatch)
    app.periodic_registry.register_task(
        task=dispatcher, cron=DISPATCH_CRON, periodic_id=DISPATCH_TASK, configure_kwargs={}
    )
    app.periodic_registry.register_task(
        task=housekeeping, cron=MAINTENANCE_CRON, periodic_id=MAINTENANCE_TASK, configure_kwargs={}
    )


async def requeue_stalled_jobs(manager: JobManager) -> int:
    """Put back in the queue the jobs left `doing` by a worker that stopped (unregistered,
    or no heartbeat for 30 s): a database restart or a kill mid-job leaves them so, holding
    their lock until requeued. Returns how many were requeued.

    When a newer job for the same sync was queued meanwhile (a schedule or a click after the
    worker died), the stalled one cannot go back to the queue (one waiting job per queueing
    lock), and left `doing` it would hold its shop's source forever: it ends as failed, and
    the waiting job does its work, from the last committed page."""
    requeued = 0
    for job in await manager.get_stalled_jobs():
        logger.warning("requeueing job %s of a worker that stopped responding", job.id)
        try:
            await manager.retry_job(job)
            requeued += 1
        except UniqueViolation:
            logger.warning(
                "job %s: a newer job for the same sync waits; job %s ends", job.id, job.id
            )
            with contextlib.suppress(ConnectorException):  # it moved on meanwhile
                await manager.finish_job(job, status=Status.FAILED, delete_job=False)
        except ConnectorException:  # it moved on meanwhile (finished or already requeued)
            logger.info("job %s changed state before it could be requeued", job.id)
    return requeued


def check_alerts(settings: Settings, control: Database) -> None:
    """Evaluate every enabled shop's health and send what is due (staleness, reminders, the
    daily summary), each with the shop's own settings and alert URLs, in its own schema
    (`notify.check_all_shops`, which `possync alerts check --all-shops` runs too)."""
    from possync.notify import check_all_shops

    try:
        checked = check_all_shops(settings, control)
    except Exception as exc:  # the next run tries again; housekeeping must go on
        logger.warning("alerts: the shops could not be read (%s)", str(exc).splitlines()[0])
        return
    for shop in checked:
        if shop.outcome.error:
            logger.warning("alerts: shop %s: %s", shop.shop, shop.outcome.error)
