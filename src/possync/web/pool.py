"""The dashboard's connections: a small pool of idle ones, so a request (a login page, a poll,
a guess from a script) doesn't pay for a new PostgreSQL connection each time.

Each connection remembers the search path it was given: a shop's page asks for its shop's
schema, and a pooled connection set for another schema is switched with one `SET`.

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
from psycopg import sql
from psycopg.pq import TransactionStatus

from possync.db.connection import Database
from possync.db.queries import query, template

MAX_IDLE = 8
# A connection idle this long is pinged before reuse (the server may have closed it).
CHECK_AFTER_IDLE_SECONDS = 10.0


SearchPath = tuple[str, ...]


class ConnectionPool:
    """Idle autocommit connections to one database, reused LIFO; thread-safe."""

    def __init__(self, db: Database, max_idle: int = MAX_IDLE) -> None:
        self.db = db
        self.max_idle = max_idle
        self._lock = threading.Lock()
        self._idle: list[tuple[psycopg.Connection[Any], float, SearchPath]] = []
        self.opened = 0  # connections opened so far (the tests read it)

    @property
    def default_path(self) -> SearchPath:
        """What `Database.connect` sets: the database's schema, then public."""
        return search_path(self.db.schema)

    def get(self, path: SearchPath | None = None) -> psycopg.Connection[Any]:
        """An idle connection that still answers, or a new one (DatabaseError when down), its
        search path set to `path` (default: the database's schema)."""
        wanted = path or self.default_path
        while True:
            with self._lock:
                if not self._idle:
                    break
                # One already on the wanted path saves a round trip; else the newest.
                index = next(
                    (i for i in range(len(self._idle) - 1, -1, -1) if self._idle[i][2] == wanted),
                    len(self._idle) - 1,
                )
                conn, idle_since, current = self._idle.pop(index)
            if _usable(conn, time.monotonic() - idle_since):
                try:
                    _switch_path(conn, current, wanted)
                except psycopg.OperationalError:  # the server closed it meanwhile
                    conn.close()
                    continue
                return conn
            conn.close()
        conn = self.db.connect(autocommit=True)
        with self._lock:
            self.opened += 1
        _switch_path(conn, self.default_path, wanted)
        return conn

    def put(self, conn: psycopg.Connection[Any], path: SearchPath | None = None) -> None:
        """Back to the pool when clean; closed when broken, mid-transaction or surplus."""
        clean = not conn.closed and conn.info.transaction_status == TransactionStatus.IDLE
        if clean:
            with self._lock:
                if len(self._idle) < self.max_idle:
                    self._idle.append((conn, time.monotonic(), path or self.default_path))
                    return
        conn.close()

    def discard_idle(self) -> None:
        """Close every idle connection: the server went away (a restart) and took them all, so
        only the request that found out fails, not one per connection still pooled."""
        self.close()

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for conn, _, _ in idle:
            conn.close()


def search_path(*schemas: str) -> SearchPath:
    """The schemas in order, then public, each once."""
    return tuple(dict.fromkeys((*schemas, "public")))


def set_search_path(conn: psycopg.Connection[Any], path: SearchPath) -> None:
    names = sql.SQL(", ").join(sql.Identifier(name) for name in path)
    conn.execute(template("set_search_path").format(schemas=names))


def _switch_path(conn: psycopg.Connection[Any], current: SearchPath, wanted: SearchPath) -> None:
    if current != wanted:
        set_search_path(conn, wanted)


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
