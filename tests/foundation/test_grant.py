"""Least privilege: a runtime role that doesn't own the tables fails loudly until
`possync grant ROLE`, then sees and writes everything possync needs; Supabase's API roles get
nothing, not even TRUNCATE."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from psycopg import sql

from possync.db.connection import Database
from possync.db.migrate import migrate
from possync.jobs.queue import JobQueue
from possync.web import create_app
from tests.conftest import make_settings
from tests.support.cli import RunPossync
from tests.support.environment import environment_for
from tests.web.conftest import PASSWORD, log_in


def as_role(db: Database, role: str) -> Database:
    """The same database, connecting as `role`."""
    parts = urlsplit(db.url)
    host = parts.netloc.rpartition("@")[2]
    return Database(urlunsplit(parts._replace(netloc=f"{role}@{host}")), db.schema)


@pytest.fixture
def runtime_role(db: Database) -> Iterator[str]:
    """A LOGIN role that is not the owner, with the table privileges a DBA would give it."""
    role = f"possync_rt_{uuid.uuid4().hex[:8]}"
    with db.connect(autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
        conn.execute(
            """INSERT INTO sync_state (source, entity_type, status, last_sync_time,
                                       records_total)
               VALUES ('lightspeed', 'sales', 'success', now(), 1500)"""
        )
    yield role
    with db.connect(autocommit=True) as conn:
        conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
        conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


def _grant_select_only(db: Database, role: str) -> None:
    with db.connect(autocommit=True) as conn:
        for statement in (
            "GRANT USAGE ON SCHEMA {} TO {}",
            "GRANT SELECT ON ALL TABLES IN SCHEMA {} TO {}",
        ):
            conn.execute(sql.SQL(statement).format(sql.Identifier(db.schema), sql.Identifier(role)))


def test_a_role_that_sees_nothing_fails_loudly_until_granted(
    db: Database, runtime_role: str, possync_cli: RunPossync, tmp_path: Path
) -> None:
    runtime = as_role(db, runtime_role)
    as_runtime = environment_for(runtime, tmp_path)
    # No privileges at all.
    bare = possync_cli("status", env=as_runtime)
    assert bare.returncode == 1, bare.explain()
    [line] = bare.stderr_lines
    assert line.startswith(f"error: role {runtime_role!r} may not read public.sync_")
    assert line.endswith(f": as the tables' owner, run `possync grant {runtime_role}`")
    # Table privileges but no policy: RLS would show 0 rows and "no syncs yet". Not any more.
    _grant_select_only(db, runtime_role)
    blind = possync_cli("status", env=as_runtime)
    assert blind.returncode == 1, blind.explain()
    assert "no syncs yet" not in blind.stdout
    [line] = blind.stderr_lines
    assert "sees no rows in public.sync" in line
    assert line.endswith(f"run `possync grant {runtime_role}`")

    granted = possync_cli("grant", runtime_role, env=environment_for(db, tmp_path))
    assert granted.returncode == 0, granted.explain()
    assert f"role {runtime_role!r} may now read and write possync's" in granted.stdout

    seen = possync_cli("status", "--json", env=as_runtime)
    assert seen.returncode == 0, seen.explain()
    [entity] = json.loads(seen.stdout)["entities"]
    assert (entity["entity_type"], entity["records_total"]) == ("sales", 1500)


def test_a_granted_role_runs_the_dashboard_and_the_queue(
    db: Database, runtime_role: str, possync_cli: RunPossync, tmp_path: Path
) -> None:
    assert possync_cli("grant", runtime_role, env=environment_for(db, tmp_path)).returncode == 0
    runtime = as_role(db, runtime_role)
    settings = make_settings(runtime, tmp_path, dashboard_password=PASSWORD)
    # Migrate again (as the owner): the grant is kept and covers every table.
    migrate(db, make_settings(db, tmp_path))
    app = create_app(settings, runtime)
    client = app.test_client()
    assert log_in(client).status_code == 302  # writes dashboard_sessions
    status = client.get("/api/status").get_json()
    sales = [card for card in status["cards"] if card["entity"] == "sales"]
    assert sales and sales[0]["records_total"] == 1500
    app.extensions["possync"].close()
    queue = JobQueue(settings, runtime)
    try:
        enqueued = queue.enqueue_sync("lightspeed", "sales")
    finally:
        queue.close()
    assert enqueued.job_id is not None
    with runtime.connect() as conn:
        # Writing a log row takes the BIGSERIAL's sequence too.
        logged = conn.execute(
            """INSERT INTO sync_log (run_id, source, entity_type, action, status)
               VALUES (gen_random_uuid(), 'lightspeed', 'sales', 'incremental_sync', 'started')
               RETURNING id"""
        ).fetchone()
        assert logged is not None and logged[0] > 0
        assert conn.execute("SELECT count(*) FROM procrastinate_jobs").fetchone() == (1,)
        conn.rollback()


@pytest.mark.parametrize("role", ["anon", "authenticated"])
def test_grant_refuses_supabase_api_roles(
    db: Database, possync_cli: RunPossync, tmp_path: Path, role: str
) -> None:
    result = possync_cli("grant", role, env=environment_for(db, tmp_path))
    assert result.returncode == 2, result.explain()
    [line] = result.stderr_lines
    assert line.startswith(f"error: refusing to grant possync's tables to {role!r}")


def test_grant_needs_an_existing_role(
    db: Database, possync_cli: RunPossync, tmp_path: Path
) -> None:
    result = possync_cli("grant", "no_such_role_here", env=environment_for(db, tmp_path))
    assert result.returncode == 2, result.explain()
    assert result.stderr_lines == [
        "error: role 'no_such_role_here' does not exist: create it first, e.g. "
        "CREATE ROLE no_such_role_here LOGIN PASSWORD '…'"
    ]
