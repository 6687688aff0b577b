"""The business pages' rollups (migration 0012): recomputing the days the sync marked stale.

Triggers on the sale tables mark the days each committed page touched, in that page's
transaction; `refresh_rollups` recomputes them from the views. The sync calls it after a run,
the dashboard before it reads when a day is still stale (a run that stopped half-way).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import psycopg

from possync.db.queries import query


def refresh_rollups(conn: psycopg.Connection[Any], source: str | None = None) -> int:
    """Recompute the stale days of `source` (None: every source); returns how many. The
    caller commits (or runs in autocommit)."""
    row = conn.execute(query("refresh_rollups"), [source]).fetchone()
    return int(row[0]) if row else 0


def stale_days(conn: psycopg.Connection[Any], up_to: int) -> int:
    """How many days are stale, counted up to `up_to` (an index read, however many there are)."""
    row = conn.execute(query("count_stale_days"), [up_to]).fetchone()
    return int(row[0]) if row else 0


@dataclass(frozen=True)
class StaleDays:
    """Business dates of one source whose rollups wait for a refresh."""

    count: int
    first: date
    last: date


def stale_days_of(conn: psycopg.Connection[Any], source: str) -> StaleDays | None:
    """The days of `source` still stale (None: the rollups are current)."""
    row = conn.execute(query("stale_days_of_source"), [source]).fetchone()
    if row is None or not row[0]:
        return None
    return StaleDays(int(row[0]), row[1], row[2])
