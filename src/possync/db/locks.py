"""One sync per (source, entity) at a time, enforced by PostgreSQL advisory locks (invariant 7).

Session-level locks on the engine's connection: a crashed process's connection closes and
PostgreSQL releases its locks, so nothing is left stuck.
"""

from __future__ import annotations

from typing import Any

import psycopg

from possync.db.queries import query

LOCK_NAMESPACE = "possync:"


def entity_lock_key(source: str, entity: str, schema: str = "public") -> tuple[str, str]:
    """The two texts hashed (with PostgreSQL's hashtext) into the advisory lock key of
    (source, entity) in the shop whose tables are in `schema`."""
    return (f"{schema}/{LOCK_NAMESPACE}{source}", entity)


def try_lock_entity(conn: psycopg.Connection[Any], source: str, entity: str) -> bool:
    """Lock (source, entity) of the shop first on `conn`'s search path."""
    row = conn.execute(query("try_lock_entity"), (LOCK_NAMESPACE + source, entity)).fetchone()
    return bool(row and row[0])


def unlock_entity(conn: psycopg.Connection[Any], source: str, entity: str) -> None:
    conn.execute(query("unlock_entity"), (LOCK_NAMESPACE + source, entity))
