"""One shop never breaks another: a shop whose secrets an old key encrypted leaves the other
shops' jobs and alerts working (and its own alert says which shop), and a shop's schema can
never be the control schema."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import psycopg
import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr

from possync.db.connection import Database
from possync.db.migrate import MIGRATION_LOCK_KEY
from possync.errors import ConfigError
from possync.notify import check_all_shops
from possync.shops import registry
from possync.shops.model import Connection, Shop, schema_for
from possync.shops.resolve import choose_shop, shop_database
from possync.shops.schemas import migrate_shop
from possync.shops.secrets import TokenCipher
from tests.conftest import make_settings
from tests.support.cli import POSSYNC_SCRIPT, RunPossync
from tests.support.environment import environment_for

KEY = Fernet.generate_key().decode()
OLD_KEY = Fernet.generate_key().decode()


def _register(db: Database, name: str, key: str, token: str) -> None:
    shop = Shop(
        name,
        schema_for(name),
        connections={"square": Connection("square", "http://127.0.0.1:9", SecretStr(token))},
    )
    with db.connect() as conn:
        registry.insert_shop(conn, shop, TokenCipher([key]))
        conn.commit()


def test_a_shop_under_an_old_key_leaves_the_others_working_and_is_named(
    db: Database, tmp_path: Path
) -> None:
    settings = make_settings(db, tmp_path, encryption_key=KEY)
    for name, key in (("aaa", KEY), ("zzz", OLD_KEY)):
        _register(db, name, key, f"token-{name}")
        migrate_shop(db, settings, Shop(name, schema_for(name)))

    chosen = choose_shop(db, settings, "aaa")
    assert chosen.connections["square"].access_token.get_secret_value() == "token-aaa"
    with pytest.raises(ConfigError, match=r"^shop zzz: a shop's credentials were encrypted"):
        choose_shop(db, settings, "zzz")

    checked = {shop.shop: shop for shop in check_all_shops(settings, db)}
    assert checked["aaa"].outcome.error is None
    error = checked["zzz"].outcome.error
    assert error is not None and "shop zzz" in error and "POSSYNC_ENCRYPTION_KEY" in error


def test_a_shop_never_takes_the_control_schema(
    db: Database, tmp_path: Path, possync_cli: RunPossync
) -> None:
    env = environment_for(db, tmp_path, POSSYNC_ENCRYPTION_KEY=KEY, POSSYNC_SCHEMA="shop_main")
    assert possync_cli("migrate", env=env).returncode == 0
    refused = possync_cli("shops", "add", "main", env=env)
    assert refused.returncode == 2, refused.explain()
    assert refused.stderr_lines == [
        "error: shop 'main' would keep its data in shop_main, possync's own schema "
        "(POSSYNC_SCHEMA): pick another shop name"
    ]
    with db.connect() as conn:
        assert conn.execute("SELECT count(*) FROM shop_main.possync_shops").fetchone() == (0,)


def test_one_shops_rollup_rebuild_never_waits_for_anothers(db: Database, tmp_path: Path) -> None:
    settings = make_settings(db, tmp_path)
    north, south = (Shop(name, schema_for(name)) for name in ("north", "south"))
    for shop in (north, south):
        migrate_shop(db, settings, shop)
    rebuild = "SELECT analytics_refresh_product_periods('lightspeed', ARRAY[current_date])"
    with shop_database(db, north).connect() as first, shop_database(db, south).connect() as other:
        first.execute(rebuild)  # north's rebuild holds its lock until its transaction ends
        other.execute("SET lock_timeout = '1s'")
        other.execute(rebuild)  # south's does not wait for it
        second = shop_database(db, north).connect()
        try:  # one rebuilder per shop still
            second.execute("SET lock_timeout = '200ms'")
            with pytest.raises(psycopg.errors.LockNotAvailable):
                second.execute(rebuild)
        finally:
            second.close()
        first.rollback()


def test_the_same_shop_added_twice_at_once_keeps_the_winners_schema(
    db: Database, tmp_path: Path
) -> None:
    env = environment_for(db, tmp_path, POSSYNC_ENCRYPTION_KEY=KEY)
    with psycopg.connect(db.url, autocommit=True) as holder:
        # Both adds wait for the migration lock, so both saw no schema and no shop.
        holder.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK_KEY,))
        adds = [
            subprocess.Popen(
                [str(POSSYNC_SCRIPT), "shops", "add", "north"],
                env=env,
                cwd=tmp_path,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        waiting = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
        deadline = time.monotonic() + 60
        while holder.execute(waiting).fetchone() != (2,):
            assert time.monotonic() < deadline, "the two adds never reached the lock"
            time.sleep(0.05)
        holder.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK_KEY,))
    codes = sorted(add.wait(timeout=120) for add in adds)
    for add in adds:
        assert add.stdout is not None and add.stderr is not None
        add.stdout.close()
        add.stderr.close()
    assert codes == [0, 2]
    with db.connect() as conn:
        assert conn.execute("SELECT name FROM possync_shops").fetchall() == [("north",)]
        tables = conn.execute("SELECT to_regclass('shop_north.sync_state') IS NOT NULL")
        assert tables.fetchone() == (True,)
