"""Least-privilege runtime roles: `possync grant ROLE`, and a loud error for a role that can
see nothing.

possync's tables have row-level security on and no policies, so only their owner (and roles
with BYPASSRLS) sees rows. A runtime role that is not the owner would read zero rows without
an error: `possync status` would say "no syncs yet" over a full database. `grant_runtime_role`
gives such a role what possync needs (schema usage, table, sequence and function privileges,
and a policy per table); `possync.db.access` turns "sees nothing" into one line with the fix.
"""

from __future__ import annotations

import re
from typing import Any

import psycopg
from psycopg import sql

from possync.db.migration_files import available_migrations
from possync.db.queries import query, template
from possync.errors import ConfigError

POLICY_PREFIX = "possync_runtime_"
# Supabase serves these over its public Data API: possync's data must never be granted to them.
PUBLIC_API_ROLES = frozenset({"anon", "authenticated", "public"})
_CREATED = re.compile(
    r"CREATE\s+(?:OR\s+REPLACE\s+)?(?:MATERIALIZED\s+)?(?:TABLE|VIEW)\s+"
    r"(?:IF\s+NOT\s+EXISTS\s+)?([A-Za-z_][A-Za-z0-9_]*)",
    re.IGNORECASE,
)


def policy_name(role: str) -> str:
    return (POLICY_PREFIX + role)[:63]


def grant_runtime_role(conn: psycopg.Connection[Any], schema: str, role: str) -> list[str]:
    """Let `role` run possync (sync, serve, worker) on `schema`; return the tables covered.
    Idempotent; run it again after `possync migrate` adds tables (migrate also does)."""
    if role.lower() in PUBLIC_API_ROLES:
        raise ConfigError(
            f"refusing to grant possync's tables to {role!r}: Supabase serves that role to the "
            "public over its Data API; create a role of your own (CREATE ROLE … LOGIN)"
        )
    exists = conn.execute(query("role_exists"), (role,)).fetchone()
    if exists is None:
        raise ConfigError(
            f"role {role!r} does not exist: create it first, e.g. "
            f"CREATE ROLE {role} LOGIN PASSWORD '…'"
        )
    relations = possync_relations(conn, schema)
    target = sql.Identifier(role)
    conn.execute(template("grant_schema_usage").format(schema=sql.Identifier(schema), role=target))
    for name, kind in relations:
        qualified = sql.Identifier(schema, name)
        if kind == "S":
            privileges = "USAGE, SELECT, UPDATE"
        elif kind in ("v", "m"):
            privileges = "SELECT"
        else:
            privileges = "SELECT, INSERT, UPDATE, DELETE"
        conn.execute(
            template("grant_privileges").format(
                privileges=sql.SQL(privileges), relation=qualified, role=target
            )
        )
    tables = [name for name, kind in relations if kind in ("r", "p")]
    policy = sql.Identifier(policy_name(role))
    for table in tables:
        qualified = sql.Identifier(schema, table)
        conn.execute(template("drop_policy").format(policy=policy, table=qualified))
        conn.execute(
            template("create_runtime_policy").format(policy=policy, table=qualified, role=target)
        )
    return tables


# Privileges row-level security does not govern: RLS hides rows from SELECT, INSERT, UPDATE
# and DELETE, but a role holding TRUNCATE empties the table regardless.
UNGUARDED_TABLE_PRIVILEGES = "TRUNCATE, REFERENCES, TRIGGER"


def revoke_from_api_role(conn: psycopg.Connection[Any], schema: str, role: str) -> None:
    """Take back what RLS cannot guard on possync's tables (TRUNCATE and the like) and
    everything on its views and sequences. SELECT & co. stay: RLS hides every row, and a
    policy you add on purpose can still expose some."""
    for name, kind in possync_relations(conn, schema):
        privileges = UNGUARDED_TABLE_PRIVILEGES if kind in ("r", "p") else "ALL"
        conn.execute(
            template("revoke_privileges").format(
                privileges=sql.SQL(privileges),
                relation=sql.Identifier(schema, name),
                role=sql.Identifier(role),
            )
        )


def possync_relations(conn: psycopg.Connection[Any], schema: str) -> list[tuple[str, str]]:
    """possync's own tables, views and their sequences in `schema`, as (name, relkind): the
    ones its migrations and the job queue created, not the rest of a shared schema."""
    names = {"possync_migrations"}
    for migration in available_migrations():
        names.update(match[1].lower() for match in _CREATED.finditer(migration.sql_text))
    rows = conn.execute(
        query("possync_relations"), {"schema": schema, "names": sorted(names)}
    ).fetchall()
    return [(str(name), str(kind)) for name, kind in rows]


def granted_roles(conn: psycopg.Connection[Any], schema: str) -> list[str]:
    """Roles that `possync grant` covered before (they hold possync's policy on sync_state)."""
    rows = conn.execute(query("granted_roles"), (schema, POLICY_PREFIX)).fetchall()
    return [role for (role,) in rows]
