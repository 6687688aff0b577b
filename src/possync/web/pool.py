"""The dashboard's connections: a small pool of idle ones, so a request (a login page, a poll,
a guess from a script) doesn't pay for a new PostgreSQL connection each time.

Not psycopg_pool's: that one waits up to its timeout for a connection while it retries in the
background, so a database that is down would make every page hang for seconds. Here a request
takes an idle connection or opens one itself, so an unreachable database still fails at once
(HTTP 503 with the reason).
"""

from __future__ import annotations

import threading
import time
from typing import Any

import psycopg
from psycopg.pq import TransactionStatus

from possync.db.connection import Database
from possync.db.queries import query

MAX_IDLE = 8
# A connection idle this long is pinged before reuse (the server may have closed it).
CHECK_AFTER_IDLE_SECONDS = 10.0


class ConnectionPool:
    """Idle autocommit connections to one database, reused LIFO; thread-safe."""

    def __init__(self, db: Database, max_idle: int = MAX_IDLE) -> None:
        self.db = db
        self.max_idle = max_idle
        self._lock = threading.Lock()
        self._idle: list[tuple[psycopg.Connection[Any], float]] = []
        self.opened = 0  # connections opened so far (the tests read it)

    def get(self) -> psycopg.Connection[Any]:
        """An idle connection that still answers, or a new one (DatabaseError when down)."""
        while True:
            with self._lock:
                if not self._idle:
                    break
                conn, idle_since = self._idle.pop()
            if _usable(conn, time.monotonic() - idle_since):
                return conn
            conn.close()
        conn = self.db.connect(autocommit=True)
        with self._lock:
            self.opened += 1
        return conn

    def put(self, conn: psycopg.Connection[Any]) -> None:
        """Back to the pool when clean; closed when broken, mid-transaction or surplus."""
        clean = not conn.closed and conn.info.transaction_status == TransactionStatus.IDLE
        if clean:
            with self._lock:
                if len(self._idle) < self.max_idle:
                    self._idle.append((conn, time.monotonic()))
                    return
        conn.close()

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for conn, _ in idle:
            conn.close()


def _usable(conn: psycopg.Connection[Any], idle_seconds: float) -> bool:
    if conn.closed:
        return False
    if idle_seconds < CHECK_AFTER_IDLE_SECONDS:
        return True
    try:
        conn.execute(query("ping"))
    except psycopg.Error:
        return False
    return True
