"""`possync queue`: sync jobs for one shop or every shop, queued now for the workers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from possync.db.connection import Database
from possync.simulator import RunningSimulator, SimulatorConfig, running_simulator
from tests.conftest import make_settings
from tests.support.cli import RunPossync
from tests.support.environment import environment_for
from tests.support.shops import register_shop

KEY = Fernet.generate_key().decode()


@pytest.fixture(scope="module")
def stores() -> Iterator[RunningSimulator]:
    with running_simulator(SimulatorConfig(seed=51, scale="small", stores=3)) as running:
        yield running


@pytest.fixture
def env(db: Database, tmp_path: Path, stores: RunningSimulator) -> dict[str, str]:
    settings = make_settings(db, tmp_path, encryption_key=KEY)
    register_shop(db, settings, "north", stores, 2)
    register_shop(db, settings, "south", stores, 3, square=False)
    register_shop(db, settings, "asleep", stores, 1, paused=True)
    return environment_for(db, tmp_path, POSSYNC_ENCRYPTION_KEY=KEY)


def queued(db: Database) -> list[tuple[str, str, str, str]]:
    with db.connect() as conn:
        rows = conn.execute(
            """SELECT args->>'shop', args->>'source', coalesce(args->>'entity', ''), queue_name
               FROM procrastinate_jobs WHERE task_name = 'possync.sync' ORDER BY 1, 2, 3"""
        ).fetchall()
    return [(r[0], r[1], r[2], r[3]) for r in rows]


def test_queue_all_shops_then_again(
    db: Database, env: dict[str, str], possync_cli: RunPossync
) -> None:
    first = possync_cli("queue", "--all-shops", env=env)
    assert first.returncode == 0, first.explain()
    lines = first.stdout.splitlines()
    assert [line.split(":")[0] for line in lines] == ["north", "south"]  # not the paused one
    assert lines[0].startswith("north: lightspeed job ") and lines[0].endswith("(import)")
    assert "queued 3 job(s) for 2 shop(s)" in first.stderr
    assert queued(db) == [
        ("north", "lightspeed", "", "possync-import"),
        ("north", "square", "", "possync-import"),
        ("south", "lightspeed", "", "possync-import"),
    ]

    again = possync_cli("queue", "--all-shops", "--json", env=env)
    assert again.returncode == 0, again.explain()
    jobs = json.loads(again.stdout)["jobs"]
    assert [(j["shop"], j["source"], j["already_queued"]) for j in jobs] == [
        ("north", "lightspeed", True),
        ("north", "square", True),
        ("south", "lightspeed", True),
    ]
    assert len(queued(db)) == 3


def test_queue_one_shop_source_and_entity(
    db: Database, env: dict[str, str], possync_cli: RunPossync
) -> None:
    one = possync_cli(
        "queue", "--shop", "north", "--source", "square", "--entity", "orders", "--json", env=env
    )
    assert one.returncode == 0, one.explain()
    (job,) = json.loads(one.stdout)["jobs"]
    assert (job["shop"], job["source"], job["entity"], job["import"]) == (
        "north",
        "square",
        "orders",
        True,
    )
    assert queued(db) == [("north", "square", "orders", "possync-import")]


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["--shop", "north", "--all-shops"], "use --shop NAME or --all-shops, not both"),
        (["--shop", "north", "--entity", "orders"], "--entity needs exactly one --source"),
        (["--shop", "south", "--source", "square"], "shop south has no square connection"),
        (["--shop", "west"], "no shop named 'west'"),
        ([], "3 shops (asleep, north, south): name one with --shop NAME"),
    ],
)
def test_queue_refuses_what_it_cannot_do(
    db: Database, env: dict[str, str], possync_cli: RunPossync, args: list[str], error: str
) -> None:
    refused = possync_cli("queue", *args, env=env)
    assert refused.returncode == 2, refused.explain()
    assert error in refused.stderr
    assert queued(db) == []
