"""Migrations: recorded, idempotent, step by step == all at once, RLS everywhere, health view."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from possync.db.connection import Database
from possync.db.migrate import applied_versions, migrate, schema_snapshot
from possync.db.migration_files import available_migrations
from possync.health.status import read_entity_statuses
from tests.conftest import make_settings

SYNC_TABLE_COLUMNS = {
    # The seed documents' columns, plus `source` (the connection's name).
    "sync_state": {
        "source",
        "entity_type",
        "last_sync_time",
        "status",
        "error_message",
        "created_at",
        "updated_at",
        "last_version",
        "watermark",
        "lookback_seconds",
        "records_total",
    },
    "sync_log": {
        "id",
        "run_id",
        "source",
        "timestamp",
        "entity_type",
        "action",
        "status",
        "duration_seconds",
        "records_processed",
        "error_details",
        "metadata",
    },
    "sync_quarantine": {
        "source",
        "entity_type",
        "record_id",
        "reason",
        "raw",
        "first_seen",
        "last_seen",
    },
}


def snapshot(db: Database) -> dict[str, Any]:
    with db.connect() as conn:
        return schema_snapshot(conn, db.schema)


def table_rows(db: Database, query: str) -> list[tuple[Any, ...]]:
    with db.connect() as conn:
        return conn.execute(query).fetchall()


def tables_in(conn: psycopg.Connection[Any], schema: str) -> dict[str, bool]:
    """Every ordinary or partitioned table in `schema`, with its RLS flag."""
    rows = conn.execute(
        """SELECT c.relname, c.relrowsecurity FROM pg_class c
           JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = %s AND c.relkind IN ('r', 'p')""",
        (schema,),
    ).fetchall()
    return {name: rls for name, rls in rows}


def columns_of(conn: psycopg.Connection[Any], schema: str, table: str) -> set[str]:
    rows = conn.execute(
        """SELECT column_name FROM information_schema.columns
           WHERE table_schema = %s AND table_name = %s""",
        (schema, table),
    ).fetchall()
    return {name for (name,) in rows}


def test_migrations_are_numbered_in_order() -> None:
    # Numbers are handed out per feature, so gaps are allowed; duplicates are not.
    migrations = available_migrations()
    versions = [m.version for m in migrations]
    assert versions[0] == 1
    assert versions == sorted(set(versions))
    assert migrations[0].name == "sync_tables"
    assert all(m.sql_text.strip() for m in migrations)


def test_fresh_database_gets_every_migration_recorded(empty_db: Database, tmp_path: Path) -> None:
    applied = migrate(empty_db, make_settings(empty_db, tmp_path))
    expected = [(m.version, m.name) for m in available_migrations()]
    assert [(m.version, m.name) for m in applied] == expected
    assert table_rows(empty_db, "SELECT version, name FROM possync_migrations ORDER BY 1") == (
        expected
    )


def test_migrating_twice_changes_nothing(db: Database, tmp_path: Path) -> None:
    settings = make_settings(db, tmp_path)
    recorded = "SELECT version, name, applied_at FROM possync_migrations ORDER BY version"
    thresholds = "SELECT key, value, updated_at FROM possync_settings ORDER BY key"
    before = (snapshot(db), table_rows(db, recorded), table_rows(db, thresholds))
    assert migrate(db, settings) == []
    assert migrate(db, settings) == []
    after = (snapshot(db), table_rows(db, recorded), table_rows(db, thresholds))
    assert after == before


def test_step_by_step_equals_all_at_once(db: Database, empty_db: Database, tmp_path: Path) -> None:
    settings = make_settings(empty_db, tmp_path)
    versions = [m.version for m in available_migrations()]
    assert migrate(empty_db, settings, target=0) == []
    for step, version in enumerate(versions, start=1):
        applied = migrate(empty_db, settings, target=version)
        assert [m.version for m in applied] == [version]
        with empty_db.connect() as conn:
            assert applied_versions(conn) == set(versions[:step])
    # `db` is a copy of the template, which was migrated all at once.
    stepwise, all_at_once = snapshot(empty_db), snapshot(db)
    assert stepwise["columns"], "the snapshot saw no columns"
    for part in ("columns", "indexes", "views", "rls", "constraints"):
        assert stepwise[part] == all_at_once[part], part


def test_sync_tables_columns_and_indexes(db: Database) -> None:
    with db.connect() as conn:
        for table, expected in SYNC_TABLE_COLUMNS.items():
            missing = expected - columns_of(conn, db.schema, table)
            assert not missing, f"{table} lacks {missing}"
        indexes = {
            name
            for (name,) in conn.execute(
                "SELECT indexname FROM pg_indexes WHERE schemaname = %s", (db.schema,)
            )
        }
        views = {
            name
            for (name,) in conn.execute(
                "SELECT viewname FROM pg_views WHERE schemaname = %s", (db.schema,)
            )
        }
    assert {"idx_sync_log_timestamp", "idx_sync_log_entity", "idx_sync_log_status"} <= indexes
    assert "idx_sync_quarantine_last_seen" in indexes
    assert "sync_health" in views


def test_rls_is_enabled_on_every_table(db: Database) -> None:
    with db.connect() as conn:
        tables = tables_in(conn, db.schema)
    assert {"possync_migrations", "possync_settings", *SYNC_TABLE_COLUMNS} <= set(tables)
    assert [name for name, rls in tables.items() if not rls] == []


def test_views_run_with_the_callers_rights(db: Database) -> None:
    with db.connect() as conn:
        if conn.info.server_version < 150000:
            pytest.fail("PostgreSQL 15+ is needed for security_invoker views")
        options = conn.execute(
            """SELECT c.relname, coalesce(c.reloptions, '{}') FROM pg_class c
               JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE n.nspname = %s AND c.relkind = 'v'""",
            (db.schema,),
        ).fetchall()
    assert options
    assert [name for name, opts in options if "security_invoker=true" not in opts] == []


def test_schema_setting_keeps_everything_in_that_schema(empty_db: Database, tmp_path: Path) -> None:
    shop = Database(empty_db.url, "shop_data")
    migrate(shop, make_settings(empty_db, tmp_path, schema_name="shop_data"))
    assert migrate(shop, make_settings(empty_db, tmp_path, schema_name="shop_data")) == []
    with shop.connect() as conn:
        in_shop = tables_in(conn, "shop_data")
        in_public = tables_in(conn, "public")
        assert columns_of(conn, "shop_data", "sync_state") >= SYNC_TABLE_COLUMNS["sync_state"]
    assert {"possync_migrations", "sync_state", "sync_log", "sync_quarantine"} <= set(in_shop)
    assert all(in_shop.values())
    assert in_public == {}


@pytest.fixture
def api_role(db: Database) -> Iterator[str]:
    """A role like Supabase's `anon`: may SELECT every table, is not the owner, no BYPASSRLS."""
    role = f"possync_test_api_{uuid.uuid4().hex[:8]}"
    with db.connect(autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(role)))
        conn.execute(
            sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(
                sql.Identifier(db.schema), sql.Identifier(role)
            )
        )
        conn.execute(
            sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA {} TO {}").format(
                sql.Identifier(db.schema), sql.Identifier(role)
            )
        )
    yield role
    with db.connect(autocommit=True) as conn:
        conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
        conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


def test_rls_hides_rows_from_api_roles(db: Database, api_role: str) -> None:
    with db.connect() as conn:
        conn.execute(
            """INSERT INTO sync_state (source, entity_type, status, last_sync_time)
               VALUES ('lightspeed', 'sales', 'success', now())"""
        )
        conn.execute(
            """INSERT INTO sync_quarantine (source, entity_type, record_id, reason, raw)
               VALUES ('square', 'orders', 'o-1', 'total mismatch', '{"email": "a@b.c"}')"""
        )
        owner_counts = [
            conn.execute(f"SELECT count(*) FROM {name}").fetchone()
            for name in ("sync_state", "sync_quarantine", "sync_health")
        ]
        conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(api_role)))
        api_counts = [
            conn.execute(f"SELECT count(*) FROM {name}").fetchone()
            for name in ("sync_state", "sync_quarantine", "sync_health")
        ]
        conn.rollback()
    assert owner_counts == [(1,), (1,), (1,)]
    # RLS with no policy: a granted role still sees nothing, through the view too.
    assert api_counts == [(0,), (0,), (0,)]


HEALTH_ROWS = {
    # entity: (status, age of the last success or None)
    "fresh": ("success", "1 hour"),
    "at_green": ("success", "2 hours"),
    "stale": ("success", "5 hours"),
    "at_yellow": ("success", "12 hours"),
    "old": ("success", "20 hours"),
    "failed_now": ("failed", "10 minutes"),
    "never": ("never_synced", None),
}


@pytest.mark.parametrize(
    ("green", "yellow", "expected"),
    [
        (
            2,
            12,
            {
                "fresh": "green",
                "at_green": "green",
                "stale": "yellow",
                "at_yellow": "yellow",
                "old": "red",
                "failed_now": "red",
                "never": "red",
            },
        ),
        (
            6,
            24,
            {
                "fresh": "green",
                "at_green": "green",
                "stale": "green",
                "at_yellow": "yellow",
                "old": "yellow",
                "failed_now": "red",
                "never": "red",
            },
        ),
        (
            0.5,
            1.5,
            {
                "fresh": "yellow",
                "at_green": "red",
                "stale": "red",
                "at_yellow": "red",
                "old": "red",
                "failed_now": "red",
                "never": "red",
            },
        ),
    ],
)
def test_sync_health_colours_follow_the_thresholds(
    db: Database, tmp_path: Path, green: float, yellow: float, expected: dict[str, str]
) -> None:
    settings = make_settings(db, tmp_path, health_green_hours=green, health_yellow_hours=yellow)
    migrate(db, settings)  # writes the thresholds the view reads
    with db.connect() as conn:
        # One transaction: now() is fixed, so ages on a threshold are exact.
        for entity, (status, age) in HEALTH_ROWS.items():
            conn.execute(
                """INSERT INTO sync_state (source, entity_type, status, last_sync_time)
                   VALUES ('lightspeed', %s, %s, now() - %s::interval)""",
                (entity, status, age),
            )
        view = dict(
            conn.execute(
                "SELECT entity_type, health FROM sync_health WHERE source = 'lightspeed'"
            ).fetchall()
        )
        python = {row.entity_type: row.health for row in read_entity_statuses(conn, settings)}
        conn.rollback()
    assert view == expected
    assert python == expected


@pytest.fixture
def supabase_roles(empty_db: Database) -> Iterator[Database]:
    """Supabase's API roles on the server, with Supabase's default grants in `empty_db`."""
    names = ("anon", "authenticated")
    with empty_db.connect(autocommit=True) as conn:
        existing = {
            name
            for (name,) in conn.execute(
                "SELECT rolname FROM pg_roles WHERE rolname = ANY(%s)", (list(names),)
            )
        }
        created = [name for name in names if name not in existing]
        for name in created:
            conn.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(name)))
        for name in names:
            role = sql.Identifier(name)
            conn.execute(sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(role))
            grant = "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON TABLES TO {}"
            conn.execute(sql.SQL(grant).format(role))
    yield empty_db
    with empty_db.connect(autocommit=True) as conn:
        for name in names:
            conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(name)))
        for name in created:
            conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(name)))


def test_supabase_api_roles_cannot_read_customer_data(
    supabase_roles: Database, tmp_path: Path
) -> None:
    db = supabase_roles
    migrate(db, make_settings(db, tmp_path))
    with db.connect() as conn:
        conn.execute(
            """INSERT INTO sync_state (source, entity_type, status, last_sync_time)
               VALUES ('square', 'orders', 'success', now())"""
        )
        conn.commit()
        tables = [
            name
            for (name,) in conn.execute(
                """SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                   WHERE n.nspname = 'public' AND c.relkind = 'r'"""
            )
        ]
        assert "sync_state" in tables and "procrastinate_jobs" in tables
        for role in ("anon", "authenticated"):
            # Supabase's default privileges granted ALL on every new table. RLS hides the rows
            # from SELECT (a policy added on purpose may expose some), but it does not stop
            # TRUNCATE: migrate takes that (and the like) back, on every possync table.
            assert conn.execute(
                "SELECT has_table_privilege(%s, 'sync_state', 'SELECT')", (role,)
            ).fetchone() == (True,)
            for privilege in ("TRUNCATE", "REFERENCES", "TRIGGER"):
                allowed = [
                    table
                    for table in tables
                    if conn.execute(
                        "SELECT has_table_privilege(%s, %s, %s)", (role, table, privilege)
                    ).fetchone()
                    == (True,)
                ]
                assert allowed == [], f"{role} may {privilege} {allowed}"
            conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(role)))
            assert conn.execute("SELECT count(*) FROM sync_state").fetchone() == (0,)
            conn.rollback()
            conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(role)))
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute("TRUNCATE sync_state")
            conn.rollback()
            assert conn.execute("SELECT count(*) FROM sync_state").fetchone() == (1,)
            # The views are revoked outright.
            assert conn.execute(
                "SELECT has_table_privilege(%s, 'sync_health', 'SELECT')", (role,)
            ).fetchone() == (False,)
