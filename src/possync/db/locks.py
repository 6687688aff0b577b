"""One sync per (source, entity) at a time, enforced by PostgreSQL advisory locks (invariant 7).

Session-level locks on the engine's connection: a crashed process's connection closes and
PostgreSQL releases its locks, so nothing is left stuck.
"""

from __future__ import annotations

from typing import Any

import psycopg

from possync.db.queries import query

LOCK_NAMESPACE = "possync:"


def entity_lock_key(source: str, entity: str) -> tuple[str, str]:
    """The two texts hashed (with PostgreSQL's hashtext) into the advisory lock key."""
    return (LOCK_NAMESPACE + source, entity)


def try_lock_entity(conn: psycopg.Connection[Any], source: str, entity: str) -> bool:
    namespace, name = entity_lock_key(source, entity)
    row = conn.execute(query("try_lock_entity"), (namespace, name)).fetchone()
    return bool(row and row[0])


def unlock_entity(conn: psycopg.Connection[Any], source: str, entity: str) -> None:
    namespace, name = entity_lock_key(source, entity)
    conn.execute(query("unlock_entity"), (namespace, name))
