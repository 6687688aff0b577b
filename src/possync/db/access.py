"""Can this connection use possync's schema: its tables exist, and the connected role may read
them and would see their rows (row-level security hides every row from a role without a
policy, which would make `possync status` say "no syncs yet" over a full database)."""

from __future__ import annotations

from typing import Any

import psycopg

from possync.errors import DatabaseError, SchemaMissingError

# Tables possync always reads first; if these are hidden, everything is.
PROBE_TABLES = ("sync_state", "sync_log")


def ensure_schema_exists(
    conn: psycopg.Connection[Any], schema: str, *, check_access: bool = True
) -> None:
    """Fail with the fix when possync's tables are missing, or (`check_access`) when the
    connected role can't use them or would see them empty (row-level security)."""
    unusable = conn.execute(
        "SELECT NOT has_schema_privilege(oid, 'USAGE') FROM pg_namespace WHERE nspname = %s",
        (schema,),
    ).fetchone()
    if unusable and unusable[0]:
        role = conn.execute("SELECT current_user").fetchone()
        name = role[0] if role else "?"
        raise DatabaseError(
            f"role {name!r} may not use schema {schema!r}: as the tables' owner, run "
            f"`possync grant {name}`"
        )
    row = conn.execute(
        "SELECT to_regclass(format('%%I.sync_state', %s::text)) IS NOT NULL", (schema,)
    ).fetchone()
    if not row or not row[0]:
        raise SchemaMissingError(
            f"possync's tables are missing in schema {schema!r}: run `possync migrate`"
        )
    if check_access:
        check_role_can_read(conn, schema)


def check_role_can_read(conn: psycopg.Connection[Any], schema: str) -> None:
    """One line with the fix when the connected role can't read possync's tables, or would
    read them empty because row-level security hides every row from it."""
    rows = conn.execute(
        """SELECT c.relname,
                  has_table_privilege(c.oid, 'SELECT') AS can_select,
                  c.relrowsecurity
                  AND c.relowner <> me.oid
                  AND NOT (me.rolsuper OR me.rolbypassrls)
                  AND NOT EXISTS (
                      SELECT 1 FROM pg_policy p
                      WHERE p.polrelid = c.oid
                        AND p.polcmd IN ('r', '*')
                        AND (0 = ANY(p.polroles) OR EXISTS (
                            SELECT 1 FROM unnest(p.polroles) AS r(oid)
                            WHERE pg_has_role(me.oid, r.oid, 'MEMBER')))) AS hidden
           FROM pg_class c
           JOIN pg_namespace n ON n.oid = c.relnamespace
           JOIN pg_roles me ON me.rolname = current_user
           WHERE n.nspname = %s AND c.relname = ANY(%s)""",
        (schema, list(PROBE_TABLES)),
    ).fetchall()
    role = conn.execute("SELECT current_user").fetchone()
    name = role[0] if role else "?"
    fix = f"as the tables' owner, run `possync grant {name}`"
    for table, can_select, hidden in rows:
        if not can_select:
            raise DatabaseError(f"role {name!r} may not read {schema}.{table}: {fix}")
        if hidden:
            raise DatabaseError(
                f"role {name!r} sees no rows in {schema}.{table} (row-level security, no policy "
                f"for it): {fix}"
            )
