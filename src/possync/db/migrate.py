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
from possync.db.published_settings import publish_health_thresholds
from possync.db.queries import query, template

MIGRATION_LOCK_KEY = 0x706F7373_6D696772  # "possmigr": one migrator at a time
SUPABASE_API_ROLES = ("anon", "authenticated")


def applied_versions(conn: psycopg.Connection[Any]) -> set[int]:
    exists = conn.execute(query("migrations_table_exists")).fetchone()
    if not exists or not exists[0]:
        return set()
    return {row[0] for row in conn.execute(query("applied_migrations"))}


def migrate(
    db: Database, settings: Settings, *, target: int | None = None, control: bool = True
) -> list[Migration]:
    """Apply the missing migrations (up to `target`); return the ones applied.

    `control` is the schema of POSSYNC_SCHEMA, which also holds the job queue and the shops
    registry; a shop's own schema (`control=False`) gets every other migration."""
    applied: list[Migration] = []
    with db.connect(autocommit=True) as conn:
        conn.execute(query("lock_migrations"), (MIGRATION_LOCK_KEY,))
        try:
            conn.execute(template("create_schema").format(schema=sql.Identifier(db.schema)))
            conn.execute(query("create_migrations_table"))
            conn.execute(query("secure_migrations_table"))
            done = applied_versions(conn)
            for migration in available_migrations():
                if migration.version in done or (target is not None and migration.version > target):
                    continue
                if migration.control_only and not control:
                    continue
                with conn.transaction():
                    conn.execute(migration.sql_text.encode())
                    conn.execute(query("record_migration"), (migration.version, migration.name))
                applied.append(migration)
            with conn.transaction():
                if control:
                    ensure_job_queue_schema(conn)  # procrastinate's own schema.sql, once
                write_health_thresholds(conn, settings)
                secure_schema(conn, db.schema)
        finally:
            conn.execute(query("unlock_migrations"), (MIGRATION_LOCK_KEY,))
    return applied


def write_health_thresholds(conn: psycopg.Connection[Any], settings: Settings) -> None:
    """The `sync_health` view reads its thresholds from possync_settings; settings are the
    source (every possync process also refreshes them at start)."""
    publish_health_thresholds(conn, settings)


def secure_schema(conn: psycopg.Connection[Any], schema: str) -> None:
    """RLS on every table, invoker-rights views, nothing for Supabase's anon roles."""
    tables = conn.execute(query("tables_without_rls"), (schema,)).fetchall()
    for (table,) in tables:
        conn.execute(template("enable_rls").format(table=sql.Identifier(schema, table)))
    server_version = conn.info.server_version
    views = conn.execute(query("schema_views"), (schema,)).fetchall()
    if server_version >= 150000:
        for (view,) in views:
            conn.execute(
                template("view_with_invoker_rights").format(view=sql.Identifier(schema, view))
            )
    roles = conn.execute(query("existing_roles"), (list(SUPABASE_API_ROLES),)).fetchall()
    for (role,) in roles:
        # Supabase's default grants give these roles ALL on new tables: RLS hides the rows,
        # but does not stop TRUNCATE. Only possync's own tables are touched, not the user's.
        revoke_from_api_role(conn, schema, role)
    for role in granted_roles(conn, schema):
        grant_runtime_role(conn, schema, role)  # tables a new migration added


def schema_snapshot(conn: psycopg.Connection[Any], schema: str) -> dict[str, Any]:
    """Tables, columns, indexes, views and RLS flags: compared by the migration tests."""
    return {
        "columns": conn.execute(query("snapshot_columns"), (schema,)).fetchall(),
        "indexes": conn.execute(query("snapshot_indexes"), (schema,)).fetchall(),
        "views": conn.execute(query("snapshot_views"), (schema,)).fetchall(),
        "rls": conn.execute(query("snapshot_rls"), (schema,)).fetchall(),
        "constraints": conn.execute(query("snapshot_constraints"), (schema,)).fetchall(),
    }
