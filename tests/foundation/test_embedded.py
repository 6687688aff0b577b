"""The embedded PostgreSQL started by the CLI, shared between processes, and an external server.

Each test starts its own servers under tmp dirs, in child processes that stop them on exit.
"""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from possync.db.connection import Database
from possync.db.migrate import schema_snapshot
from tests.support.cli import RunPossync
from tests.support.environment import environment_for, possync_environment

from .conftest import embedded_server_holder, embedded_server_process, read_postmaster


def public_tables_with_rls(url: str) -> dict[str, bool]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            """SELECT c.relname, c.relrowsecurity FROM pg_class c
               JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')"""
        ).fetchall()
    return {name: rls for name, rls in rows}


def test_cli_starts_the_embedded_server_and_a_second_process_reuses_it(
    possync_process: RunPossync, db: Database, server_dir: Path
) -> None:
    data_dir = server_dir / "possync-data"
    env = possync_environment(POSSYNC_DATA_DIR=str(data_dir))

    # No URL: the CLI creates and starts a server under the data dir, and stops it on exit.
    first = possync_process("migrate", env=env)
    assert first.returncode == 0, first.explain()
    assert "applied 0001_sync_tables" in first.stdout
    assert "database socket /" in first.stdout, "the embedded server is reached by socket"
    assert (data_dir / "pgdata" / "PG_VERSION").read_text().strip() == "18"
    assert read_postmaster(data_dir) is None, "the last process to exit stops the server"

    with embedded_server_holder(data_dir) as url:
        postmaster = read_postmaster(data_dir)
        assert postmaster is not None and postmaster.running
        assert postmaster.listen_addresses == "", "Unix socket only: no TCP address"
        # A second process joins the running server rather than starting another.
        second = possync_process("migrate", env=env)
        assert second.returncode == 0, second.explain()
        assert second.stdout.startswith("nothing to do"), "the first run's schema persisted"
        status = possync_process("status", "--json", env=env)
        assert status.returncode == 0, status.explain()
        assert json.loads(status.stdout) == {"entities": []}
        assert read_postmaster(data_dir) == postmaster, "same server, still running"
        assert postmaster.running
        with psycopg.connect(url) as conn:
            assert conn.info.server_version >= 180000
            embedded_schema = schema_snapshot(conn, "public")
        tables = public_tables_with_rls(url)
    assert read_postmaster(data_dir) is None
    assert not postmaster.running

    with db.connect() as conn:
        assert embedded_schema == schema_snapshot(conn, "public")
    assert {"sync_state", "sync_log", "sync_quarantine"} <= set(tables)
    assert all(tables.values())


@pytest.fixture
def external_url(tmp_path: Path, server_dir: Path) -> Iterator[str]:
    """A fresh database on a server possync did not start, given only by its URL.

    POSSYNC_TEST_DATABASE_URL when set; otherwise a second embedded server in another data dir.
    """
    configured = os.environ.get("POSSYNC_TEST_DATABASE_URL")
    if configured:
        server = Database(configured, "public")
        name = f"ext_{os.getpid()}_{tmp_path.name[-12:]}".lower().replace("-", "_")
        with psycopg.connect(server.url, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            yield server.with_database_name(name).url
        finally:
            with psycopg.connect(server.url, autocommit=True) as conn:
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )
        return
    with embedded_server_holder(server_dir / "external-server") as url:
        yield url


def test_external_server_given_by_url(
    possync_process: RunPossync, db: Database, external_url: str, tmp_path: Path
) -> None:
    data_dir = tmp_path / "unused-data-dir"
    env = environment_for(Database(external_url, "public"), data_dir)
    first = possync_process("migrate", env=env)
    assert first.returncode == 0, first.explain()
    assert "applied 0001_sync_tables" in first.stdout
    again = possync_process("migrate", env=env)
    assert again.returncode == 0, again.explain()
    assert again.stdout.startswith("nothing to do")
    status = possync_process("status", "--json", env=env)
    assert status.returncode == 0, status.explain()
    assert json.loads(status.stdout) == {"entities": []}
    assert not data_dir.exists(), "with a URL, no embedded server is started"

    tables = public_tables_with_rls(external_url)
    assert {"sync_state", "sync_log", "sync_quarantine", "possync_migrations"} <= set(tables)
    assert all(tables.values())
    with psycopg.connect(external_url) as conn:
        external_schema = schema_snapshot(conn, "public")
    with db.connect() as conn:
        assert external_schema == schema_snapshot(conn, "public")


def test_a_holder_killed_with_sigkill_does_not_keep_the_server_running(server_dir: Path) -> None:
    """A process killed with -9 (or by the OOM killer) never says it let go of the server: the
    last process alive that lets go stops it all the same."""
    data_dir = server_dir / "possync-data"
    with embedded_server_process(data_dir) as (_url, killed):
        postmaster = read_postmaster(data_dir)
        assert postmaster is not None and postmaster.running
        killed.kill()
        killed.wait()
        try:
            with embedded_server_holder(data_dir):
                assert read_postmaster(data_dir) == postmaster, "the survivor joined it"
            assert read_postmaster(data_dir) is None, "the last live holder stopped the server"
        finally:
            if postmaster.running:  # the old behaviour: stop it ourselves, fail above
                os.kill(postmaster.pid, signal.SIGTERM)
