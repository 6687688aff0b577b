"""Periodic schedules: procrastinate's periodic deferrer, with cron read in the shop's zone.

- incremental (POSSYNC_SCHEDULE_INCREMENTAL, hourly): a sync of every entity per source;
- deep (POSSYNC_SCHEDULE_DEEP, 02:00): Square's catalog read in full, and a reconciliation
  of each source's last days against the POS;
- housekeeping (every 5 minutes): requeue jobs of dead workers, prune month-old jobs, and
  evaluate alerts (staleness even when nothing ran, reminders, the daily summary).

procrastinate evaluates cron in UTC; `zone_schedules` gives each periodic task a croniter
anchored in `POSSYNC_TIMEZONE`, so "0 2 * * *" means 02:00 where the shop is, across DST.
procrastinate still records each (task, schedule, time) it defers in its own table, so any
number of schedulers defer each run once.

Schedules only defer jobs (with the same locks as a click); they never sync themselves.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from datetime import datetime
from zoneinfo import ZoneInfo

import attr
from croniter import croniter
from procrastinate import App, JobContext
from procrastinate.exceptions import AlreadyEnqueued, ConnectorException
from procrastinate.manager import JobManager
from procrastinate.periodic import PeriodicRegistry, PeriodicTask

from possync.config.settings import Settings
from possync.jobs.names import (
    DEEP_TASK,
    EVERY_ENTITY,
    INCREMENTAL_TASK,
    MAINTENANCE_TASK,
    QUEUE,
    RECONCILE_TASK,
    SYNC_TASK,
    reconcile_lock,
    sync_lock,
)
from possync.sources.registry import can_reconcile, configured_sources, deep_pass_entities

logger = logging.getLogger(__name__)

MAINTENANCE_CRON = "*/5 * * * *"
KEEP_FINISHED_JOBS_HOURS = 24 * 30


@attr.dataclass(frozen=True)
class ZonedPeriodicTask(PeriodicTask):  # type: ignore[type-arg]
    """A periodic task whose cron is read in `timezone` instead of UTC."""

    timezone: ZoneInfo = ZoneInfo("UTC")

    @functools.cached_property
    def croniter(self) -> croniter:
        return croniter(self.cron, datetime.now(self.timezone))


def zone_schedules(registry: PeriodicRegistry, timezone: str) -> None:
    """Swap each registered periodic task for one whose cron is read in `timezone`."""
    zone = ZoneInfo(timezone)
    for key, periodic_task in list(registry.periodic_tasks.items()):
        registry.periodic_tasks[key] = ZonedPeriodicTask(
            task=periodic_task.task,
            cron=periodic_task.cron,
            periodic_id=periodic_task.periodic_id,
            configure_kwargs=periodic_task.configure_kwargs,
            timezone=zone,
        )


def next_run(cron: str, timezone: str, after: datetime) -> datetime:
    """When `cron` fires next after `after`, read in `timezone` (shown on the jobs page)."""
    zone = ZoneInfo(timezone)
    result: datetime = croniter(cron, after.astimezone(zone)).get_next(datetime)
    return result


async def defer_sync_if_idle(
    app: App, source: str, entity: str, *, full: bool, trigger: str
) -> int | None:
    """Defer a sync job unless one for (source, entity) is already waiting."""
    lock = sync_lock(source, entity)
    deferrer = app.configure_task(SYNC_TASK, lock=lock, queueing_lock=lock, queue=QUEUE)
    try:
        job_id: int = await deferrer.defer_async(
            source=source, entity=entity, full=full, trigger=trigger
        )
    except AlreadyEnqueued:
        logger.info("schedule: %s %s already queued", source, entity or "*")
        return None
    return job_id


async def defer_reconcile_if_idle(app: App, source: str) -> int | None:
    """Defer a reconciliation of `source` unless one is already waiting."""
    lock = reconcile_lock(source)
    deferrer = app.configure_task(RECONCILE_TASK, lock=lock, queueing_lock=lock, queue=QUEUE)
    try:
        job_id: int = await deferrer.defer_async(source=source)
    except AlreadyEnqueued:
        return None
    return job_id


def register_schedules(app: App, settings: Settings) -> None:
    """The incremental and deep schedules from settings, and the queue's housekeeping."""
    sources = configured_sources(settings)

    async def scheduled_incremental(context: JobContext, timestamp: int) -> None:
        for source in sources:
            await defer_sync_if_idle(
                context.app, source, EVERY_ENTITY, full=False, trigger="schedule"
            )

    async def scheduled_deep(context: JobContext, timestamp: int) -> None:
        for source in sources:
            for entity in deep_pass_entities(source):
                await defer_sync_if_idle(context.app, source, entity, full=True, trigger="deep")
        for source in sources:
            if can_reconcile(source):
                await defer_reconcile_if_idle(context.app, source)

    async def maintenance(context: JobContext, timestamp: int) -> None:
        # Jobs of a worker that died (no heartbeat) would hold their lock forever: requeue them.
        manager = context.app.job_manager
        await requeue_stalled_jobs(manager)
        # Staleness must alert even when nothing ran at all: evaluate health every 5 minutes.
        await asyncio.to_thread(check_alerts, settings)
        await manager.delete_old_jobs(
            nb_hours=KEEP_FINISHED_JOBS_HOURS,
            queue=QUEUE,
            include_failed=True,
            include_cancelled=True,
            include_aborted=True,
        )

    schedules = (
        (INCREMENTAL_TASK, settings.schedule_incremental, scheduled_incremental),
        (DEEP_TASK, settings.schedule_deep, scheduled_deep),
        (MAINTENANCE_TASK, MAINTENANCE_CRON, maintenance),
    )
    for name, cron, func in schedules:
        # A lock per schedule: two runs of the same housekeeping never overlap.
        task = app.task(name=name, queue=QUEUE, pass_context=True, lock=name)(func)
        if cron:
            app.periodic_registry.register_task(
                task=task, cron=cron, periodic_id=name, configure_kwargs={}
            )
    zone_schedules(app.periodic_registry, settings.timezone)


async def requeue_stalled_jobs(manager: JobManager) -> int:
    """Put back in the queue the jobs left `doing` by a worker that stopped (unregistered,
    or no heartbeat for 30 s): a database restart mid-job leaves them so, holding their lock
    until requeued. Returns how many were requeued."""
    requeued = 0
    for job in await manager.get_stalled_jobs():
        logger.warning("requeueing job %s of a worker that stopped responding", job.id)
        try:
            await manager.retry_job(job)
            requeued += 1
        except ConnectorException:  # it moved on meanwhile (finished or already requeued)
            logger.info("job %s changed state before it could be requeued", job.id)
    return requeued


def check_alerts(settings: Settings) -> None:
    """Evaluate health and send what is due (staleness, reminders, the daily summary)."""
    from possync.db.connection import open_database
    from possync.notify import check_health

    try:
        check_health(settings, open_database(settings))
    except Exception as exc:  # the next run tries again; housekeeping must go on
        logger.warning("alerts: the health check failed (%s)", type(exc).__name__)
