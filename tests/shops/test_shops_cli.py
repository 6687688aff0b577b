"""`possync shops …` and `--shop`: shops registered in the control schema, each synced into its
own schema from its own simulated store, tokens encrypted at rest."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from bench.trials.square_truth import assert_square_matches_truth
from bench.trials.truth import assert_lightspeed_matches_truth
from cryptography.fernet import Fernet

from possync.db.connection import Database
from possync.db.locks import try_lock_entity
from possync.engine.run import EntityProgress, SyncRequest, run_sync
from possync.errors import PossyncError
from possync.shops.resolve import choose_shop, shop_database, shop_settings
from possync.simulator import RunningSimulator, SimulatorConfig, running_simulator
from tests.conftest import make_settings
from tests.support.cli import POSSYNC_SCRIPT, RunPossync
from tests.support.environment import environment_for

KEY = Fernet.generate_key().decode()


@pytest.fixture(scope="module")
def stores() -> Iterator[RunningSimulator]:
    with running_simulator(SimulatorConfig(seed=14, scale="small", stores=3)) as running:
        yield running


def truth(sim: RunningSimulator, store: int) -> dict:  # type: ignore[type-arg]
    answer = httpx.get(sim.base_url + "/_simulator/truth", params={"store": store})
    return answer.json()  # type: ignore[no-any-return]


def token_file(tmp_path: Path, sim: RunningSimulator, store: int) -> str:
    path = tmp_path / f"token-{store}"
    path.write_text(f"{sim.token}-{store}\n")
    return str(path)


def add_args(name: str, sim: RunningSimulator, tmp_path: Path, store: int) -> list[str]:
    token = token_file(tmp_path, sim, store)
    return [
        "shops", "add", name,
        "--lightspeed-url", sim.lightspeed_url, "--lightspeed-token-file", token,
        "--square-url", sim.square_url, "--square-token-file", token,
        "--timezone", "Europe/London",
    ]  # fmt: skip


def test_two_shops_sync_into_their_own_schemas_equal_to_their_stores(
    db: Database, tmp_path: Path, stores: RunningSimulator, possync_cli: RunPossync
) -> None:
    env = environment_for(db, tmp_path, POSSYNC_ENCRYPTION_KEY=KEY)
    for name, store in (("north", 2), ("south-side", 3)):
        added = possync_cli(*add_args(name, stores, tmp_path, store), env=env)
        assert added.returncode == 0, added.explain()
        assert f"schema shop_{name.replace('-', '_')}, sources lightspeed, square" in added.stdout

    ambiguous = possync_cli("sync", env=env)
    assert ambiguous.returncode == 2
    assert ambiguous.stderr_lines == [
        "error: 2 shops (north, south-side): name one with --shop NAME"
    ]
    unknown = possync_cli("status", "--shop", "west", env=env)
    assert unknown.returncode == 2 and "no shop named 'west'" in unknown.stderr

    for name in ("north", "south-side"):
        synced = possync_cli("sync", "--shop", name, env=env)
        assert synced.returncode == 0, synced.explain()

    for schema, store in (("shop_north", 2), ("shop_south_side", 3)):
        expected = truth(stores, store)
        with Database(db.url, schema).connect() as conn:
            assert_lightspeed_matches_truth(conn, expected["lightspeed"])
            assert_square_matches_truth(conn, expected["square"])
    with db.connect() as conn:  # the control schema's own shop has nothing
        assert conn.execute("SELECT count(*) FROM lightspeed_sales").fetchone() == (0,)
        north = {r[0] for r in conn.execute("SELECT id FROM shop_north.lightspeed_sales")}
        south = {r[0] for r in conn.execute("SELECT id FROM shop_south_side.lightspeed_sales")}
    assert north and south and not north & south

    status = possync_cli("status", "--shop", "north", "--json", env=env)
    assert status.returncode == 0, status.explain()
    assert '"entity_type": "sales"' in status.stdout


def test_tokens_are_encrypted_at_rest_never_listed_and_rotate_to_a_new_key(
    db: Database, tmp_path: Path, stores: RunningSimulator, possync_cli: RunPossync
) -> None:
    env = environment_for(db, tmp_path, POSSYNC_ENCRYPTION_KEY=KEY)
    assert possync_cli(*add_args("north", stores, tmp_path, 2), env=env).returncode == 0
    token = f"{stores.token}-2".encode()
    with db.connect() as conn:
        stored = conn.execute(
            "SELECT access_token FROM possync_shop_connections WHERE shop_name = 'north'"
        ).fetchall()
    assert len(stored) == 2 and all(token not in bytes(row[0]) for row in stored)
    listed = possync_cli("shops", "list", "--json", env=env)
    assert listed.returncode == 0 and token.decode() not in listed.stdout
    assert '"schema": "shop_north"' in listed.stdout

    new_key = Fernet.generate_key().decode()
    rotated = possync_cli(
        "shops", "rotate-key", env={**env, "POSSYNC_ENCRYPTION_KEY": f"{new_key},{KEY}"}
    )
    assert rotated.returncode == 0, rotated.explain()
    assert "re-encrypted 2 secret(s)" in rotated.stdout
    only_new = {**env, "POSSYNC_ENCRYPTION_KEY": new_key}
    synced = possync_cli("sync", "--shop", "north", "--source", "square", env=only_new)
    assert synced.returncode == 0, synced.explain()
    with Database(db.url, "shop_north").connect() as conn:
        assert_square_matches_truth(conn, truth(stores, 2)["square"])
    old_only = possync_cli("sync", "--shop", "north", env=env)
    assert old_only.returncode == 2
    assert old_only.stderr_lines == [
        "error: shop north: a shop's credentials were encrypted with a key that is not in "
        "POSSYNC_ENCRYPTION_KEY: add that key back (after the newest)"
    ]


def test_a_token_read_from_standard_input(
    db: Database, tmp_path: Path, stores: RunningSimulator
) -> None:
    env = environment_for(db, tmp_path, POSSYNC_ENCRYPTION_KEY=KEY)
    args = [
        "shops", "add", "east", "--lightspeed-url", stores.lightspeed_url,
        "--lightspeed-token-file", "-",
    ]  # fmt: skip
    completed = subprocess.run(
        [str(POSSYNC_SCRIPT), *args], env=env, input=f"{stores.token}-3\n",
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    synced = subprocess.run(
        [str(POSSYNC_SCRIPT), "sync", "--shop", "east"], env=env,
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert synced.returncode == 0, synced.stderr
    with Database(db.url, "shop_east").connect() as conn:
        assert_lightspeed_matches_truth(conn, truth(stores, 3)["lightspeed"])


@pytest.mark.parametrize(
    ("args", "key", "error"),
    [
        (["shops", "add", "North"], KEY, "invalid shop name 'North'"),
        (["shops", "add", "default"], KEY, "'default' names the shop the environment"),
        (
            ["shops", "add", "n", "--lightspeed-url", "http://127.0.0.1:9/api/2.0"],
            KEY,
            "--lightspeed-token-file is needed with a Lightspeed store",
        ),
        (["shops", "add", "n", "--square-token-file", "/nonexistent"], KEY, "cannot read"),
        (["shops", "add", "n", "--timezone", "Mars/Base"], KEY, "unknown time zone"),
        (["shops", "add", "n", "--square-token-file", "TOKEN"], "", "POSSYNC_ENCRYPTION_KEY"),
        (["shops", "rotate-key"], "not-a-key", "key 1 is not a Fernet key"),
        (["shops", "pause", "nobody"], KEY, "no shop named 'nobody'"),
    ],
)
def test_bad_input_is_one_line_and_changes_nothing(
    db: Database,
    tmp_path: Path,
    possync_cli: RunPossync,
    args: list[str],
    key: str,
    error: str,
) -> None:
    (tmp_path / "cwd" / "TOKEN").write_text("a-token")
    env = environment_for(db, tmp_path, POSSYNC_ENCRYPTION_KEY=key)
    result = possync_cli(*args, env=env)
    assert result.returncode == 2, result.explain()
    assert len(result.stderr_lines) == 1 and error in result.stderr, result.explain()
    with db.connect() as conn:
        assert conn.execute("SELECT count(*) FROM possync_shops").fetchone() == (0,)
        schemas = conn.execute(
            "SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'shop%%'"
        ).fetchone()
    assert schemas == (0,)


def test_pause_resume_remove_and_drop(
    db: Database, tmp_path: Path, stores: RunningSimulator, possync_cli: RunPossync
) -> None:
    env = environment_for(db, tmp_path, POSSYNC_ENCRYPTION_KEY=KEY)
    for name, store in (("north", 2), ("south", 3)):
        assert possync_cli(*add_args(name, stores, tmp_path, store), env=env).returncode == 0
    assert possync_cli("shops", "pause", "north", env=env).returncode == 0
    listed = possync_cli("shops", "list", env=env).stdout.splitlines()
    assert listed[1].split()[0] == "north" and listed[1].endswith("paused")
    assert listed[2].endswith("active")
    assert possync_cli("shops", "resume", "north", env=env).returncode == 0
    assert possync_cli("shops", "list", env=env).stdout.splitlines()[1].endswith("active")

    kept = possync_cli("shops", "remove", "north", env=env)
    assert kept.returncode == 0 and "its data stays in schema shop_north" in kept.stdout
    dropped = possync_cli("shops", "remove", "south", "--drop-data", "--yes", env=env)
    assert dropped.returncode == 0, dropped.explain()
    with db.connect() as conn:
        assert conn.execute("SELECT count(*) FROM possync_shops").fetchone() == (0,)
        assert conn.execute("SELECT to_regnamespace('shop_north') IS NOT NULL").fetchone() == (
            True,
        )
        assert conn.execute("SELECT to_regnamespace('shop_south')").fetchone() == (None,)


def test_the_environments_shop_is_listed_and_named_default(
    db: Database, tmp_path: Path, stores: RunningSimulator, possync_cli: RunPossync
) -> None:
    env = environment_for(
        db,
        tmp_path,
        POSSYNC_ENCRYPTION_KEY=KEY,
        POSSYNC_LIGHTSPEED_URL=stores.lightspeed_url,
        POSSYNC_LIGHTSPEED_TOKEN=stores.token,
    )
    assert possync_cli(*add_args("north", stores, tmp_path, 2), env=env).returncode == 0
    listed = possync_cli("shops", "list", "--json", env=env)
    assert '"name": "default"' in listed.stdout and '"schema": "public"' in listed.stdout
    synced = possync_cli("sync", "--shop", "default", "--entity", "outlets", env=env)
    assert synced.returncode == 0, synced.explain()
    with db.connect() as conn:
        outlets = conn.execute("SELECT count(*) FROM lightspeed_outlets").fetchone()
        north = conn.execute("SELECT count(*) FROM shop_north.lightspeed_outlets").fetchone()
    assert outlets is not None and outlets[0] > 0 and north == (0,)


def test_migrate_upgrades_every_shops_schema(
    db: Database, tmp_path: Path, stores: RunningSimulator, possync_cli: RunPossync
) -> None:
    env = environment_for(db, tmp_path, POSSYNC_ENCRYPTION_KEY=KEY)
    assert possync_cli(*add_args("north", stores, tmp_path, 2), env=env).returncode == 0
    with Database(db.url, "shop_north").connect() as conn:
        conn.execute("DELETE FROM possync_migrations WHERE version = 14")
        conn.execute("DROP FUNCTION sync_health_at CASCADE")
        conn.commit()
    migrated = possync_cli("migrate", env=env)
    assert migrated.returncode == 0, migrated.explain()
    assert "applied 0014_health_in_one_place to shop_north" in migrated.stdout
    with Database(db.url, "shop_north").connect() as conn:
        tables = {r[0] for r in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'shop_north'"
        )}  # fmt: skip
    assert "lightspeed_sales" in tables and "possync_shops" not in tables
    assert "procrastinate_jobs" not in tables


def test_one_shops_running_sync_does_not_lock_another_shops_same_entity(
    db: Database, tmp_path: Path, stores: RunningSimulator, possync_cli: RunPossync
) -> None:
    env = environment_for(db, tmp_path, POSSYNC_ENCRYPTION_KEY=KEY)
    for name, store in (("north", 2), ("south", 3)):
        assert possync_cli(*add_args(name, stores, tmp_path, store), env=env).returncode == 0
    # North's outlets are being synced: its connection holds the entity's lock.
    with Database(db.url, "shop_north").connect(autocommit=True) as holder:
        assert try_lock_entity(holder, "lightspeed", "outlets")
        args = ("sync", "--source", "lightspeed", "--entity", "outlets")
        south = possync_cli(*args, "--shop", "south", env=env)
        north = possync_cli(*args, "--shop", "north", env=env)
    assert south.returncode == 0, south.explain()
    assert "outlets              skipped" in north.stdout, north.explain()
    assert "another lightspeed outlets sync is running" in north.stdout
    assert "outlets              completed" in south.stdout, south.explain()


def test_a_shop_whose_schema_is_gone_never_writes_into_the_control_schema(
    db: Database, tmp_path: Path, stores: RunningSimulator, possync_cli: RunPossync
) -> None:
    env = environment_for(db, tmp_path, POSSYNC_ENCRYPTION_KEY=KEY)
    assert possync_cli(*add_args("north", stores, tmp_path, 2), env=env).returncode == 0
    base = make_settings(db, tmp_path, encryption_key=KEY)
    shop = choose_shop(db, base, "north")
    dropped: list[str] = []

    def drop_after_the_first_entity(progress: EntityProgress) -> None:
        # Dropped while a worker syncs the shop (`shops remove --drop-data`, a restore).
        if progress.done and not dropped:
            dropped.append(progress.entity)
            with db.connect() as conn:
                conn.execute("DROP SCHEMA shop_north CASCADE")
                conn.commit()

    # What the worker's job runs: the engine on the shop's settings and database.
    try:
        report = run_sync(
            shop_settings(base, shop),
            shop_database(db, shop),
            SyncRequest("lightspeed"),
            on_progress=drop_after_the_first_entity,
        )
        failed = [r.entity for r in report.failed]
    except PossyncError as exc:
        failed = [str(exc)]
    assert dropped and failed, "a sync into a schema that is gone must fail"
    with db.connect() as conn:  # the control schema's own tables are untouched
        for table in ("lightspeed_outlets", "lightspeed_products", "sync_log", "sync_state"):
            assert conn.execute(f"SELECT count(*) FROM {table}").fetchone() == (0,), table
