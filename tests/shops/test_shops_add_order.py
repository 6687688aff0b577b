"""`possync shops add` creates the shop's tables before the shop is registered: a worker that
sees a shop in the registry must find its tables (a shop's search path ends with the control
schema, so a missing table would be the control schema's own)."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import psycopg
from cryptography.fernet import Fernet

from possync.db.connection import Database
from possync.db.migrate import MIGRATION_LOCK_KEY
from tests.support.cli import POSSYNC_SCRIPT, RunPossync
from tests.support.environment import environment_for

KEY = Fernet.generate_key().decode()


def count(db: Database, sql: str) -> int:
    with psycopg.connect(db.url) as conn:
        row = conn.execute(sql).fetchone()
    assert row is not None
    return int(row[0])


def test_a_shop_is_registered_only_once_its_tables_exist(db: Database, tmp_path: Path) -> None:
    env = environment_for(db, tmp_path, POSSYNC_ENCRYPTION_KEY=KEY)
    token = tmp_path / "token"
    token.write_text("tok-1\n")
    args = ["shops", "add", "north", "--square-url", "http://127.0.0.1:9/sq"]
    args += ["--square-token-file", str(token)]
    with psycopg.connect(db.url, autocommit=True) as migrating:
        # Another migration is under way: `shops add` waits for it to create north's tables.
        migrating.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK_KEY,))
        adding = subprocess.Popen(
            [str(POSSYNC_SCRIPT), *args], env=env, cwd=tmp_path,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            waiting = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
            deadline = time.monotonic() + 60
            while count(db, waiting) == 0 and adding.poll() is None:
                assert time.monotonic() < deadline, "shops add never waited for the migration"
                time.sleep(0.1)
            assert count(db, "SELECT count(*) FROM possync_shops") == 0
        finally:
            migrating.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK_KEY,))
        stdout, stderr = adding.communicate(timeout=120)
    assert adding.returncode == 0, stderr
    assert "added shop north: schema shop_north, sources square" in stdout
    assert count(db, "SELECT count(*) FROM possync_shops") == 1
    assert count(db, "SELECT count(*) FROM shop_north.sync_state") == 0  # the table is there


def test_adding_a_shop_again_keeps_the_first_ones_data(
    db: Database, tmp_path: Path, possync_cli: RunPossync
) -> None:
    env = environment_for(db, tmp_path, POSSYNC_ENCRYPTION_KEY=KEY)
    assert possync_cli("shops", "add", "north", env=env).returncode == 0
    with Database(db.url, "shop_north").connect() as conn:
        conn.execute("INSERT INTO sync_state (source, entity_type) VALUES ('square', 'orders')")
        conn.commit()
    again = possync_cli("shops", "add", "north", "--timezone", "Asia/Tokyo", env=env)
    assert again.returncode == 2
    assert again.stderr_lines == [
        "error: a shop named 'north' (or using schema shop_north) already exists; pick another "
        "name or `possync shops remove` it first"
    ]
    assert count(db, "SELECT count(*) FROM shop_north.sync_state") == 1
    assert count(db, "SELECT count(*) FROM possync_shops WHERE timezone = 'UTC'") == 1
