"""Can this connection use possync's schema: its tables exist, and the connected role may read
them and would see their rows (row-level security hides every row from a role without a
policy, which would make `possync status` say "no syncs yet" over a full database)."""

from __future__ import annotations

from typing import Any

import psycopg

from possync.db.queries import query
from possync.errors import DatabaseError, SchemaMissingError

# Tables possync always reads first; if these are hidden, everything is.
PROBE_TABLES = ("sync_state", "sync_log")


def ensure_schema_exists(
    conn: psycopg.Connection[Any], schema: str, *, check_access: bool = True
) -> None:
    """Fail with the fix when possync's tables are missing, or (`check_access`) when the
    connected role can't use them or would see them empty (row-level security)."""
    unusable = conn.execute(query("schema_unusable"), (schema,)).fetchone()
    if unusable and unusable[0]:
        name = _current_role(conn)
        raise DatabaseError(
            f"role {name!r} may not use schema {schema!r}: as the tables' owner, run "
            f"`possync grant {name}`"
        )
    row = conn.execute(query("schema_has_tables"), (schema,)).fetchone()
    if not row or not row[0]:
        raise SchemaMissingError(
            f"possync's tables are missing in schema {schema!r}: run `possync migrate`"
        )
    if check_access:
        check_role_can_read(conn, schema)


def check_role_can_read(conn: psycopg.Connection[Any], schema: str) -> None:
    """One line with the fix when the connected role can't read possync's tables, or would
    read them empty because row-level security hides every row from it."""
    rows = conn.execute(query("role_read_access"), (schema, list(PROBE_TABLES))).fetchall()
    name = _current_role(conn)
    fix = f"as the tables' owner, run `possync grant {name}`"
    for table, can_select, hidden in rows:
        if not can_select:
            raise DatabaseError(f"role {name!r} may not read {schema}.{table}: {fix}")
        if hidden:
            raise DatabaseError(
                f"role {name!r} sees no rows in {schema}.{table} (row-level security, no policy "
                f"for it): {fix}"
            )


def _current_role(conn: psycopg.Connection[Any]) -> str:
    row = conn.execute(query("current_role_name")).fetchone()
    return str(row[0]) if row else "?"
