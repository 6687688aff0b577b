"""The business pages' rollups (migration 0012): recomputing the days the sync marked stale.

Triggers on the sale tables mark the days each committed page touched, in that page's
transaction; `refresh_rollups` recomputes them from the views. The sync calls it after a run,
the dashboard before it reads when a day is still stale (a run that stopped half-way).
"""

from __future__ import annotations

from typing import Any

import psycopg

_STALE_COUNT = "SELECT count(*) FROM (SELECT 1 FROM analytics_stale_days LIMIT %s) AS stale"


def refresh_rollups(conn: psycopg.Connection[Any], source: str | None = None) -> int:
    """Recompute the stale days of `source` (None: every source); returns how many. The
    caller commits (or runs in autocommit)."""
    row = conn.execute("SELECT analytics_refresh(%s)", [source]).fetchone()
    return int(row[0]) if row else 0


def stale_days(conn: psycopg.Connection[Any], up_to: int) -> int:
    """How many days are stale, counted up to `up_to` (an index read, however many there are)."""
    row = conn.execute(_STALE_COUNT, [up_to]).fetchone()
    return int(row[0]) if row else 0
