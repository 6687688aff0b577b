"""The dispatcher: every minute, for every enabled shop, queue what its schedules made due.

One periodic task (`possync.dispatch`, `schedule.py`) runs this for every shop, instead of
periodic tasks per shop (procrastinate warns against one per tenant: with many, some never
run). For each shop that is not paused — the environment's shop and every registered one —
and each of its two schedules (the shop's own cron, or the global one), read in the shop's
time zone:

- incremental: a sync of every entity per source;
- deep: the sources' full re-reads (Square's catalog) and a reconciliation of each source
  already imported.

Exactly once per (shop, schedule, scheduled time): `possync_dispatches` keeps the latest time
queued, and a dispatcher claims a time by moving that row forward in the transaction that
stays open while it queues the jobs. A second dispatcher waits on the row, then finds it
moved; a dispatcher that dies before committing leaves the time to the next one (the jobs it
queued meanwhile answer "already queued"). After a pause (no worker ran), only the latest
missed time is queued. A deep schedule seen for the first time is recorded, not run: a shop
just added has its first import to do, not a reconciliation of an empty database.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
from croniter import croniter

from possync.config.settings import Settings
from possync.db.connection import Database
from possync.db.queries import query
from possync.errors import PossyncError
from possync.jobs.names import ENVIRONMENT_SHOP_ARG, EVERY_ENTITY
from possync.jobs.queue import Enqueued, JobQueue, source_needs_import
from possync.shops.model import ENVIRONMENT_SHOP, Shop
from possync.shops.resolve import all_shops
from possync.sources.registry import can_reconcile, deep_pass_entities

logger = logging.getLogger(__name__)

INCREMENTAL = "incremental"
DEEP = "deep"


@dataclass
class Dispatch:
    """What the dispatcher queued for one shop's schedule at one scheduled time."""

    shop: str
    schedule: str
    due_at: datetime
    syncs: list[Enqueued] = field(default_factory=list)
    reconciles: list[str] = field(default_factory=list)  # sources
    first_seen: bool = False  # recorded, nothing queued (a deep schedule seen the first time)


def latest_due(cron: str, timezone: str, now: datetime) -> datetime:
    """The latest time `cron` fired at or before `now`, read in `timezone` (DST included)."""
    start = now.astimezone(ZoneInfo(timezone)).replace(microsecond=0) + timedelta(seconds=1)
    due: datetime = croniter(cron, start).get_prev(datetime)
    return due


def shop_schedules(shop: Shop, settings: Settings) -> dict[str, str]:
    """The shop's crons (its own, or the global ones); an empty cron is off."""
    incremental = shop.schedule_incremental
    deep = shop.schedule_deep
    crons = {
        INCREMENTAL: settings.schedule_incremental if incremental is None else incremental,
        DEEP: settings.schedule_deep if deep is None else deep,
    }
    return {kind: cron for kind, cron in crons.items() if cron}


def job_shop(shop: Shop) -> str:
    """The `shop` argument of the shop's jobs."""
    return shop.name if shop.registered else ENVIRONMENT_SHOP_ARG


def in_turn(shops: list[Shop], now: datetime) -> list[Shop]:
    """The shops starting from a different one each hour: when a cycle queues hundreds of
    shops at once, no shop is always the last."""
    if not shops:
        return shops
    start = int(now.timestamp() // 3600) % len(shops)
    return shops[start:] + shops[:start]


def dispatch_due(
    settings: Settings, control: Database, queue: JobQueue, now: datetime
) -> list[Dispatch]:
    """Queue every (shop, schedule) whose latest scheduled time at `now` was not queued yet."""
    done: list[Dispatch] = []
    with control.connect() as conn:
        known = all_shops(conn, settings)
        queued = {(r[0], r[1]): r[2] for r in conn.execute(query("dispatched_times"))}
        # Forget removed shops only: a worker whose environment configures no source must not
        # make the environment's shop new again (its deep pass would then never run).
        names = [s.name for s in known] + [ENVIRONMENT_SHOP]
        conn.execute(query("forget_dispatches"), {"shops": names})
        conn.commit()
        shops = [s for s in known if not s.paused and s.sources]
        for shop in in_turn(shops, now):
            for schedule, cron in shop_schedules(shop, settings).items():
                due = latest_due(cron, shop.timezone, now)
                last = queued.get((shop.name, schedule))
                if last is not None and last >= due:
                    continue
                try:
                    dispatch = claim_and_queue(conn, queue, shop, schedule, due, last is None)
                except (PossyncError, psycopg.Error) as exc:  # the next minute tries again
                    logger.warning("dispatch: %s %s failed: %s", shop.name, schedule, exc)
                    if conn.closed:
                        raise
                    continue
                if dispatch is not None:
                    done.append(dispatch)
    return done


def claim_and_queue(
    conn: psycopg.Connection[Any],
    queue: JobQueue,
    shop: Shop,
    schedule: str,
    due: datetime,
    first_seen: bool,
) -> Dispatch | None:
    """Claim (shop, schedule, due) and queue its jobs in one transaction; None when another
    dispatcher claimed it first."""
    with conn.transaction():
        claimed = conn.execute(
            query("claim_dispatch"), {"shop": shop.name, "schedule": schedule, "due_at": due}
        ).fetchone()
        if claimed is None:
            return None
        dispatch = Dispatch(shop.name, schedule, due, first_seen=first_seen and schedule == DEEP)
        if dispatch.first_seen:
            return dispatch
        for source in shop.sources:
            importing = source_needs_import(conn, shop.schema_name, source)
            if schedule == INCREMENTAL:
                dispatch.syncs.append(
                    queue.enqueue_sync(
                        source,
                        EVERY_ENTITY,
                        trigger="schedule",
                        shop=job_shop(shop),
                        first_import=importing,
                    )
                )
                continue
            for entity in deep_pass_entities(source):
                dispatch.syncs.append(
                    queue.enqueue_sync(
                        source, entity, full=True, trigger="deep", shop=job_shop(shop)
                    )
                )
            if can_reconcile(source) and not importing:
                queue.enqueue_reconcile(source, shop=job_shop(shop))
                dispatch.reconciles.append(source)
    logger.info(
        "dispatch: %s %s due %s: %s job(s)",
        shop.name,
        schedule,
        due.isoformat(),
        len(dispatch.syncs) + len(dispatch.reconciles),
    )
    return dispatch
