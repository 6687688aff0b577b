"""procrastinate's tables, installed by `possync migrate` into possync's schema.

procrastinate ships its whole schema as one SQL file; we apply that file, unchanged, the first
time (when `procrastinate_jobs` is missing). Its names are unqualified, so they land in the
first schema of the search path, which `Database.connect()` sets to possync's schema.
"""

from __future__ import annotations

from typing import Any

import psycopg
from procrastinate.schema import SchemaManager

from possync.db.queries import query


def job_queue_schema_exists(conn: psycopg.Connection[Any]) -> bool:
    """True when procrastinate's jobs table is in the current schema."""
    row = conn.execute(query("job_queue_exists")).fetchone()
    return bool(row and row[0])


def ensure_job_queue_schema(conn: psycopg.Connection[Any]) -> bool:
    """Apply procrastinate's schema when it is missing; return whether it was applied.

    The caller holds the migration lock and the transaction.
    """
    if job_queue_schema_exists(conn):
        return False
    # No parameters: psycopg sends the text as is, so procrastinate's `%` need no escaping.
    conn.execute(SchemaManager.get_schema().encode())
    return True
