"""Names the job queue shares between who defers and who runs: the queue, the task names and
the locks. Task names are stored with every job in procrastinate's table: never rename them.

Each sync job carries two locks named after (source, entity):

- `queueing_lock`: at most one such job waits in the queue, so repeated clicks don't pile up
  (a second click while one waits is answered "already queued");
- `lock`: procrastinate never runs two jobs with the same lock at once, on any worker.
"""

from __future__ import annotations

QUEUE = "possync"
SYNC_TASK = "possync.sync"
RECONCILE_TASK = "possync.reconcile"
INCREMENTAL_TASK = "possync.scheduled_incremental"
DEEP_TASK = "possync.scheduled_deep"
MAINTENANCE_TASK = "possync.maintenance"
EVERY_ENTITY = ""  # the `entity` argument meaning "every entity of the source"


ENVIRONMENT_SHOP_ARG = ""  # the `shop` argument of a job for the environment's shop


def sync_lock(source: str, entity: str, shop: str = ENVIRONMENT_SHOP_ARG) -> str:
    """The lock (and queueing lock) of a sync job for (shop, source, entity); the
    environment's shop keeps the names jobs had before shops existed."""
    where = f"{shop}:" if shop else ""
    return f"possync:sync:{where}{source}:{entity or '*'}"


def reconcile_lock(source: str, shop: str = ENVIRONMENT_SHOP_ARG) -> str:
    """The lock (and queueing lock) of a reconciliation job for (shop, source)."""
    where = f"{shop}:" if shop else ""
    return f"possync:reconcile:{where}{source}"
