"""Sync jobs on procrastinate, in possync's own PostgreSQL database: the App and its tasks.

- `names`: the queue, task names and locks, shared by who defers and who runs;
- `sync_task`: `possync.sync`, the engine for one shop's source and entity;
- `reconcile`: `possync.reconcile`, the POS's daily totals against the database's;
- `schedule`: the periodic dispatcher (`dispatch`: what every shop's schedules made due),
  which only *defers* jobs (a scheduled run and a click share the same locks), and the
  queue's housekeeping;
- `queue`: `JobQueue`, deferring from synchronous code (dashboard, CLI, dispatcher);
- `worker`: the worker process; `connection`: procrastinate's connector; procrastinate's
  tables are in `possync.db.jobs_schema`.
"""

from __future__ import annotations

from procrastinate import App

from possync.config.settings import Settings
from possync.db.connection import Database
from possync.jobs.connection import job_connector
from possync.jobs.reconcile import register_reconcile_task
from possync.jobs.schedule import register_schedules
from possync.jobs.sync_task import register_sync_task


def build_job_app(
    settings: Settings, db: Database, *, schedules: bool = False, max_pool_size: int = 4
) -> App:
    """A procrastinate App for `db` with possync's tasks (and, if asked, its schedules)."""
    app = App(connector=job_connector(db, max_pool_size=max_pool_size))
    register_sync_task(app, settings, db)
    register_reconcile_task(app, settings, db)
    if schedules:
        register_schedules(app, settings, db)
    return app
