"""Deferring sync jobs from synchronous code (the dashboard's "sync now", the CLI)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg
from procrastinate import App
from procrastinate.exceptions import AlreadyEnqueued
from psycopg_pool import NullConnectionPool

from possync.config.settings import Settings
from possync.db.connection import CONNECT_TIMEOUT_SECONDS, Database, unreachable_message
from possync.errors import DatabaseError, PossyncError
from possync.jobs.app import CONNECTION_KWARGS, build_job_app, search_path_statement
from possync.jobs.names import ENVIRONMENT_SHOP_ARG, EVERY_ENTITY, QUEUE, SYNC_TASK, sync_lock
from possync.sources.registry import configured_sources, sync_target


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
        shop: str = ENVIRONMENT_SHOP_ARG,
    ) -> Enqueued:
        """Queue a sync of (shop, source, entity); None as id when one is already waiting."""
        entity = sync_target(source, entity) if entity else EVERY_ENTITY
        app = self._open()
        lock = sync_lock(source, entity, shop)
        deferrer = app.configure_task(SYNC_TASK, lock=lock, queueing_lock=lock, queue=QUEUE)
        # The environment's shop's jobs keep the arguments they had before shops existed.
        where = {"shop": shop} if shop != ENVIRONMENT_SHOP_ARG else {}
        try:
            job_id = deferrer.defer(
                source=source, entity=entity, full=full, trigger=trigger, **where
            )
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
    if isinstance(exc, PossyncError):
        return exc
    cause = exc.__cause__ if exc.__cause__ is not None else exc
    return DatabaseError(unreachable_message(db.url, cause))
