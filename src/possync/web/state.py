"""What the dashboard holds for its lifetime, and the request's database connection."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, cast

import psycopg
from flask import current_app, g

from possync.config.settings import Settings
from possync.db.connection import Database
from possync.jobs.queue import JobQueue
from possync.web.cache import StatusCache
from possync.web.pool import ConnectionPool, SearchPath, search_path, set_search_path


@dataclass
class WebState:
    # The deployment's settings and control database; a shop's page reads the shop's own
    # (possync.web.shop_context.current_shop).
    settings: Settings
    db: Database
    cache: StatusCache
    job_queue: JobQueue
    connections: ConnectionPool | None = None
    # `serve` runs a worker and the scheduler itself: /healthz fails while they are down.
    expect_worker: bool = False
    # Shop schemas seen to hold possync's tables (possync.web.shop_context.ensure_shop_schema).

    def close(self) -> None:
        """Let go of the job queue and the pooled connections."""
        self.job_queue.close()
        if self.connections is not None:
            self.connections.close()


def web_state() -> WebState:
    """The dashboard's state, from the current Flask app."""
    return cast(WebState, current_app.extensions["possync"])


def connection() -> psycopg.Connection[Any]:
    """This request's connection to the control schema (sessions, heartbeats, the job queue,
    the shops registry; the environment's shop's data). Autocommit: the dashboard reads, and
    writes only sessions. Taken from the pool on first use, given back when the request ends."""
    return connection_on(search_path(web_state().db.schema))


def connection_on(path: SearchPath) -> psycopg.Connection[Any]:
    """This request's connection with `path` as its search path (one per path)."""
    conns: dict[SearchPath, psycopg.Connection[Any]] = g.setdefault("possync_conns", {})
    conn = conns.get(path)
    if conn is None:
        state = web_state()
        if state.connections is not None:
            conn = state.connections.get(path)
        else:
            conn = state.db.connect(autocommit=True)
            set_search_path(conn, path)
        conns[path] = conn
    return conn


@contextmanager
def borrowed_connection(path: SearchPath) -> Iterator[psycopg.Connection[Any]]:
    """A connection on `path` for a moment (a loop over shops uses one connection in turn,
    not one per shop)."""
    state = web_state()
    if state.connections is None:
        with state.db.connect(autocommit=True) as conn:
            set_search_path(conn, path)
            yield conn
        return
    conn = state.connections.get(path)
    try:
        yield conn
    finally:
        state.connections.put(conn, path)


def has_connection() -> bool:
    """Whether this request reached the database yet."""
    return bool(g.get("possync_conns"))


def close_connection(_exc: BaseException | None = None) -> None:
    conns: dict[SearchPath, psycopg.Connection[Any]] = g.pop("possync_conns", None) or {}
    pool = web_state().connections
    for path, conn in conns.items():
        if pool is not None:
            pool.put(conn, path)
        else:
            conn.close()
