"""Schema migrations: numbered SQL files, each applied in its own transaction and recorded.

Files live in `possync/db/sql/migrations/NNNN_name.sql` (see `migration_files`). `migrate()`
takes an advisory lock so two processes never migrate at once, applies what is missing in
order, then (every time) writes the health thresholds from settings and secures the schema:
RLS on every table, views evaluated with the caller's rights, no access at all for Supabase's
public API roles, and the policies and grants of roles given `possync grant` extended to new
tables.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql

from possync.config.settings import Settings
from possync.db.connection import Database
from possync.db.grant import grant_runtime_role, granted_roles, revoke_from_api_role
from possync.db.jobs_schema import ensure_job_queue_schema
from possync.db.migration_files import Migration, available_migrations
from possync.health.thresholds import publish_health_thresholds

MIGRATION_LOCK_KEY = 0x706F7373_6D696772  # "possmigr": one migrator at a time
SUPABASE_API_ROLES = ("anon", "authenticated")


def applied_versions(conn: psycopg.Connection[Any]) -> set[int]:
    exists = conn.execute("SELECT to_regclass('possync_migrations') IS NOT NULL").fetchone()
    if not exists or not exists[0]:
        return set()
    return {row[0] for row in conn.execute("SELECT version FROM possync_migrations")}


def migrate(db: Database, settings: Settings, *, target: int | None = None) -> list[Migration]:
    """Apply the missing migrations (up to `target`); return the ones applied."""
    applied: list[Migration] = []
    with db.connect(autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK_KEY,))
        try:
            conn.execute(
                sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(db.schema))
            )
            conn.execute(
                """CREATE TABLE IF NOT EXISTS possync_migrations (
                       version    INTEGER PRIMARY KEY,
                       name       TEXT NOT NULL,
                       applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"""
            )
            conn.execute("ALTER TABLE possync_migrations ENABLE ROW LEVEL SECURITY")
            done = applied_versions(conn)
            for migration in available_migrations():
                if migration.version in done or (target is not None and migration.version > target):
                    continue
                with conn.transaction():
                    conn.execute(migration.sql_text.encode())
                    conn.execute(
                        "INSERT INTO possync_migrations (version, name) VALUES (%s, %s)",
                        (migration.version, migration.name),
                    )
                applied.append(migration)
            with conn.transaction():
                ensure_job_queue_schema(conn)  # procrastinate's own schema.sql, once
                write_health_thresholds(conn, settings)
                secure_schema(conn, db.schema)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK_KEY,))
    return applied


def write_health_thresholds(conn: psycopg.Connection[Any], settings: Settings) -> None:
    """The `sync_health` view reads its thresholds from possync_settings; settings are the
    source (every possync process also refreshes them at start)."""
    publish_health_thresholds(conn, settings)


def secure_schema(conn: psycopg.Connection[Any], schema: str) -> None:
    """RLS on every table, invoker-rights views, nothing for Supabase's anon roles."""
    tables = conn.execute(
        """SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = %s AND c.relkind IN ('r', 'p') AND NOT c.relrowsecurity""",
        (schema,),
    ).fetchall()
    for (table,) in tables:
        conn.execute(
            sql.SQL("ALTER TABLE {}.{} ENABLE ROW LEVEL SECURITY").format(
                sql.Identifier(schema), sql.Identifier(table)
            )
        )
    server_version = conn.info.server_version
    views = conn.execute(
        """SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = %s AND c.relkind IN ('v', 'm')""",
        (schema,),
    ).fetchall()
    if server_version >= 150000:
        for (view,) in views:
            conn.execute(
                sql.SQL("ALTER VIEW {}.{} SET (security_invoker = true)").format(
                    sql.Identifier(schema), sql.Identifier(view)
                )
            )
    roles = conn.execute(
        "SELECT rolname FROM pg_roles WHERE rolname = ANY(%s)", (list(SUPABASE_API_ROLES),)
    ).fetchall()
    for (role,) in roles:
        # Supabase's default grants give these roles ALL on new tables: RLS hides the rows,
        # but does not stop TRUNCATE. Only possync's own tables are touched, not the user's.
        revoke_from_api_role(conn, schema, role)
    for role in granted_roles(conn, schema):
        grant_runtime_role(conn, schema, role)  # tables a new migration added


def schema_snapshot(conn: psycopg.Connection[Any], schema: str) -> dict[str, Any]:
    """Tables, columns, indexes, views and RLS flags: compared by the migration tests."""
    columns = conn.execute(
        """SELECT table_name, column_name, data_type, is_nullable, column_default
           FROM information_schema.columns WHERE table_schema = %s
           ORDER BY table_name, column_name""",
        (schema,),
    ).fetchall()
    indexes = conn.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = %s ORDER BY indexname",
        (schema,),
    ).fetchall()
    views = conn.execute(
        "SELECT viewname, definition FROM pg_views WHERE schemaname = %s ORDER BY viewname",
        (schema,),
    ).fetchall()
    rls = conn.execute(
        """SELECT c.relname, c.relrowsecurity FROM pg_class c
           JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = %s AND c.relkind IN ('r', 'p') ORDER BY c.relname""",
        (schema,),
    ).fetchall()
    constraints = conn.execute(
        """SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)
           FROM pg_constraint WHERE connamespace = %s::regnamespace ORDER BY 1, 2""",
        (schema,),
    ).fetchall()
    return {
        "columns": columns,
        "indexes": indexes,
        "views": views,
        "rls": rls,
        "constraints": constraints,
    }
