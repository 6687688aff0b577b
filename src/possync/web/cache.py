"""A small cache for the dashboard's status queries.

An entry is reused while it is younger than `POSSYNC_STATUS_CACHE_SECONDS` *and* the database's
activity fingerprint is unchanged. The fingerprint moves when a job is queued, starts or ends
(procrastinate writes an event row each time) and when a sync run starts or ends, on any worker
or machine; reading it costs three index lookups.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, TypeVar

import psycopg

from possync.db.queries import query

T = TypeVar("T")


def activity_fingerprint(conn: psycopg.Connection[Any]) -> Hashable:
    """Changes whenever a job or a sync run starts or ends."""
    row = conn.execute(query("activity_fingerprint")).fetchone()
    return tuple(row) if row else ()


@dataclass
class _Entry:
    stored_at: float
    fingerprint: Hashable
    value: Any


class StatusCache:
    """Thread-safe: waitress serves requests from several threads."""

    def __init__(self, ttl_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_seconds = ttl_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: dict[str, _Entry] = {}
        self.hits = 0
        self.misses = 0

    def get(self, key: str, fingerprint: Hashable, compute: Callable[[], T]) -> T:
        """The cached value for `key`, or `compute()` stored anew."""
        now = self._clock()
        with self._lock:
            entry = self._entries.get(key)
            if (
                entry is not None
                and now - entry.stored_at < self.ttl_seconds
                and entry.fingerprint == fingerprint
            ):
                self.hits += 1
                value: T = entry.value
                return value
            self.misses += 1
        value = compute()
        with self._lock:
            self._entries[key] = _Entry(now, fingerprint, value)
        return value

    def invalidate(self) -> None:
        """Forget everything (this process queued a job)."""
        with self._lock:
            self._entries.clear()
