"""What the dashboard holds for its lifetime, and the request's database connection."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

import psycopg
from flask import current_app, g

from possync.config.settings import Settings
from possync.db.connection import Database
from possync.jobs.queue import JobQueue
from possync.web.cache import StatusCache
from possync.web.pool import ConnectionPool


@dataclass
class WebState:
    settings: Settings
    db: Database
    cache: StatusCache
    job_queue: JobQueue
    connections: ConnectionPool | None = None
    # `serve` runs a worker and the scheduler itself: /healthz fails while they are down.
    expect_worker: bool = False

    def close(self) -> None:
        """Let go of the job queue and the pooled connections."""
        self.job_queue.close()
        if self.connections is not None:
            self.connections.close()


def web_state() -> WebState:
    """The dashboard's state, from the current Flask app."""
    return cast(WebState, current_app.extensions["possync"])


def connection() -> psycopg.Connection[Any]:
    """This request's connection (autocommit: the dashboard reads, and writes only sessions),
    taken from the pool on first use and given back when the request ends."""
    conn = g.get("possync_conn")
    if conn is None:
        state = web_state()
        conn = state.connections.get() if state.connections else state.db.connect(autocommit=True)
        g.possync_conn = conn
    return cast(psycopg.Connection[Any], conn)


def close_connection(_exc: BaseException | None = None) -> None:
    conn = g.pop("possync_conn", None)
    if conn is None:
        return
    pool = web_state().connections
    if pool is not None:
        pool.put(conn)
    else:
        conn.close()
