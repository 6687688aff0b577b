"""Deferring jobs from synchronous code (the dashboard's "sync now", the CLI, the dispatcher).

Where a sync job goes decides how fairly workers share out: an import (a source never synced
in full, or a `full` re-read) goes to `IMPORT_QUEUE` at a low priority, everything else to
`QUEUE`; each worker process keeps one slot that never takes imports (`worker.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg
from procrastinate import App
from procrastinate.exceptions import AlreadyEnqueued
from psycopg import sql
from psycopg_pool import NullConnectionPool

from possync.config.settings import Settings
from possync.db.connection import CONNECT_TIMEOUT_SECONDS, Database, unreachable_message
from possync.db.queries import template
from possync.errors import DatabaseError, PossyncError
from possync.jobs.connection import CONNECTION_KWARGS, job_connector, search_path_statement
from possync.jobs.names import (
    ENVIRONMENT_SHOP_ARG,
    EVERY_ENTITY,
    IMPORT_PRIORITY,
    IMPORT_QUEUE,
    QUEUE,
    RECONCILE_TASK,
    SYNC_PRIORITY,
    SYNC_TASK,
    reconcile_lock,
    source_lock,
    sync_lock,
)
from possync.shops.model import schema_for
from possync.sources.registry import sync_target


@dataclass(frozen=True)
class Enqueued:
    """The answer to "sync now": the job's id, or None when one was already waiting."""

    source: str
    entity: str
    job_id: int | None
    shop: str = ENVIRONMENT_SHOP_ARG
    queue: str = QUEUE

    @property
    def already_queued(self) -> bool:
        return self.job_id is None

    @property
    def is_import(self) -> bool:
        return self.queue == IMPORT_QUEUE

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "entity": self.entity or None,
            "job_id": self.job_id,
            "already_queued": self.already_queued,
        }


class JobQueue:
    """Defers jobs from synchronous code (dashboard, CLI, dispatcher), for any shop.

    `db` is the control database (where procrastinate's tables are). Connects per call (no
    pool kept open), so an unreachable database fails fast with a DatabaseError instead of
    waiting on a pool.
    """

    def __init__(self, settings: Settings, db: Database) -> None:
        self.settings = settings
        self.db = db
        self._app: App | None = None
        self._pool: NullConnectionPool[Any] | None = None

    def app(self) -> App:
        """The procrastinate App, opened on first use (to defer tasks by name)."""
        return self._open()

    def _open(self) -> App:
        if self._app is None:
            schema_statement = search_path_statement(self.db.schema)

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
            # No tasks registered: jobs are deferred by task name, with every option given.
            app = App(connector=job_connector(self.db))
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
        shop: str = ENVIRONMENT_SHOP_ARG,
        first_import: bool | None = None,
    ) -> Enqueued:
        """Queue a sync of (shop, source, entity); None as id when one is already waiting.

        `first_import` None: looked up in the shop's `sync_state`."""
        entity = sync_target(source, entity) if entity else EVERY_ENTITY
        if first_import is None:
            first_import = self.needs_import(shop, source, entity)
        slow = full or first_import
        deferrer = self._open().configure_task(
            SYNC_TASK,
            lock=source_lock(source, shop),
            queueing_lock=sync_lock(source, entity, shop),
            queue=IMPORT_QUEUE if slow else QUEUE,
            priority=IMPORT_PRIORITY if slow else SYNC_PRIORITY,
        )
        # The environment's shop's jobs keep the arguments they had before shops existed.
        where = {"shop": shop} if shop != ENVIRONMENT_SHOP_ARG else {}
        queue = IMPORT_QUEUE if slow else QUEUE
        try:
            job_id = deferrer.defer(
                source=source, entity=entity, full=full, trigger=trigger, **where
            )
        except AlreadyEnqueued:
            return Enqueued(source, entity, None, shop, queue)
        except Exception as exc:
            raise _as_database_error(self.db, exc) from None
        return Enqueued(source, entity, job_id, shop, queue)

    def enqueue_reconcile(self, source: str, *, shop: str = ENVIRONMENT_SHOP_ARG) -> int | None:
        """Queue a reconciliation of (shop, source); None when one is already waiting."""
        deferrer = self._open().configure_task(
            RECONCILE_TASK,
            lock=source_lock(source, shop),
            queueing_lock=reconcile_lock(source, shop),
            queue=QUEUE,
            priority=SYNC_PRIORITY,
        )
        where = {"shop": shop} if shop != ENVIRONMENT_SHOP_ARG else {}
        try:
            job_id: int = deferrer.defer(source=source, **where)
        except AlreadyEnqueued:
            return None
        except Exception as exc:
            raise _as_database_error(self.db, exc) from None
        return job_id

    def needs_import(self, shop: str, source: str, entity: str = EVERY_ENTITY) -> bool:
        """Whether syncing (shop, source, entity) now is an import (see `source_needs_import`)."""
        schema = self.db.schema if shop == ENVIRONMENT_SHOP_ARG else schema_for(shop)
        try:
            with self.db.connect() as conn:
                return source_needs_import(conn, schema, source, entity)
        except psycopg.Error as exc:
            raise _as_database_error(self.db, exc) from None

    def close(self) -> None:
        if self._app is not None:
            self._app.close()
        if self._pool is not None:
            self._pool.close()
        self._app = self._pool = None


def source_needs_import(
    conn: psycopg.Connection[Any], schema: str, source: str, entity: str = EVERY_ENTITY
) -> bool:
    """True when (source, entity) in `schema` never completed a run; a schema without its
    tables (not migrated yet) counts as never synced."""
    statement = template("source_needs_import").format(schema=sql.Identifier(schema))
    try:
        with conn.transaction():
            row = conn.execute(statement, {"source": source, "entity": entity}).fetchone()
    except psycopg.errors.UndefinedTable:
        return True
    return bool(row and row[0])


def _as_database_error(db: Database, exc: Exception) -> Exception:
    if isinstance(exc, PossyncError):
        return exc
    cause = exc.__cause__ if exc.__cause__ is not None else exc
    return DatabaseError(unreachable_message(db.url, cause))
