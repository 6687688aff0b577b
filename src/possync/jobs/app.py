"""Sync jobs on procrastinate, in possync's own PostgreSQL database: the App and its tasks.

- `names`: the queue, task names and locks, shared by who defers and who runs;
- `sync_task`: `possync.sync`, the engine for one source and entity;
- `reconcile`: `possync.reconcile`, the POS's daily totals against the database's;
- `schedule`: periodic schedules, which only *defer* jobs (a scheduled run and a click share
  the same locks), and the queue's housekeeping;
- `queue`: `JobQueue`, deferring from synchronous code (dashboard, CLI);
- `worker`: the worker process; procrastinate's tables are in `possync.db.jobs_schema`.
"""

from __future__ import annotations

from typing import Any

import psycopg
from procrastinate import App, PsycopgConnector
from psycopg import sql

from possync.config.settings import Settings
from possync.db.connection import APPLICATION_NAME, CONNECT_TIMEOUT_SECONDS, Database
from possync.jobs.reconcile import register_reconcile_task
from possync.jobs.schedule import register_schedules
from possync.jobs.sync_task import register_sync_task


def search_path_statement(schema: str) -> sql.Composed:
    """Put possync's schema first on every job connection."""
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
    schema_statement = search_path_statement(db.schema)

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
    register_reconcile_task(app, settings, db)
    if schedules:
        register_schedules(app, settings)
    return app
