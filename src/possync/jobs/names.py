"""Names the job queue shares between who defers and who runs: the queues, the task names,
the locks and the priorities. Task names are stored with every job in procrastinate's table:
never rename them.

Each sync job carries two locks:

- `queueing_lock`, named after (shop, source, entity): at most one such job waits in the
  queue, so repeated clicks and schedules don't pile up ("already queued");
- `lock`, named after (shop, source): procrastinate never runs two jobs with the same lock at
  once, on any worker. So one shop's source runs one job at a time (a sync or a
  reconciliation): the POS's rate limit is per retailer or merchant, and that job has the
  whole budget. Other shops' jobs never wait on it.
"""

from __future__ import annotations

QUEUE = "possync"  # syncs of shops already imported, and everything a person asks for
IMPORT_QUEUE = "possync-import"  # first imports and full re-reads: the long jobs
SCHEDULE_QUEUE = "possync-schedule"  # the dispatcher and the housekeeping
SYNC_QUEUES = (QUEUE, IMPORT_QUEUE)  # the queues whose jobs the jobs page shows

SYNC_TASK = "possync.sync"
RECONCILE_TASK = "possync.reconcile"
DISPATCH_TASK = "possync.dispatch"
# Jobs of these two may still wait in a database upgraded from before the dispatcher: they
# run it (see `schedule.py`).
INCREMENTAL_TASK = "possync.scheduled_incremental"
DEEP_TASK = "possync.scheduled_deep"
MAINTENANCE_TASK = "possync.maintenance"
EVERY_ENTITY = ""  # the `entity` argument meaning "every entity of the source"

# procrastinate runs the highest priority first: the dispatcher before any sync, a sync of an
# imported shop before an import (which may take hours).
SCHEDULE_PRIORITY = 100
SYNC_PRIORITY = 0
IMPORT_PRIORITY = -10

ENVIRONMENT_SHOP_ARG = ""  # the `shop` argument of a job for the environment's shop


def sync_lock(source: str, entity: str, shop: str = ENVIRONMENT_SHOP_ARG) -> str:
    """The queueing lock of a sync job for (shop, source, entity); the environment's shop
    keeps the names jobs had before shops existed."""
    where = f"{shop}:" if shop else ""
    return f"possync:sync:{where}{source}:{entity or '*'}"


def reconcile_lock(source: str, shop: str = ENVIRONMENT_SHOP_ARG) -> str:
    """The queueing lock of a reconciliation job for (shop, source)."""
    where = f"{shop}:" if shop else ""
    return f"possync:reconcile:{where}{source}"


def source_lock(source: str, shop: str = ENVIRONMENT_SHOP_ARG) -> str:
    """The running lock of every job that calls a shop's API: one job of a registered shop at
    a time (a shop whose POS fails holds one worker slot, never all of them: the 200-shop
    benchmark), one per source for the environment's shop (its two sources side by side,
    as before shops)."""
    if shop:
        return f"possync:shop:{shop}"
    return f"possync:source:{source}"
