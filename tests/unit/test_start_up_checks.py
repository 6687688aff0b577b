"""Checks at start-up: a cron that never fires is refused in one line; waiting for PostgreSQL
says one line per attempt, backs off, gives up in one line, and never waits on a refusal."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from bench.trials.serving import POSSYNC, clean_env

from possync.config.settings import load_settings
from possync.db.connection import Database, DatabaseUnavailable, wait_for_database
from possync.errors import ConfigError, DatabaseError


@pytest.mark.parametrize(
    ("field", "env_name"),
    [
        ("schedule_incremental", "POSSYNC_SCHEDULE_INCREMENTAL"),
        ("schedule_deep", "POSSYNC_SCHEDULE_DEEP"),
    ],
)
def test_a_cron_that_never_fires_is_refused_when_settings_load(field: str, env_name: str) -> None:
    with pytest.raises(ConfigError) as refused:
        load_settings(_env_file=None, **{field: "0 0 30 2 *"})
    assert str(refused.value) == (
        f"{env_name}: '0 0 30 2 *' never fires (no date matches it): use a cron that does, "
        "or empty to turn the schedule off"
    )
    # A rare date that exists is fine: 29 February comes every four years.
    assert getattr(load_settings(_env_file=None, **{field: "0 0 29 2 *"}), field) == "0 0 29 2 *"


def test_the_cli_refuses_a_cron_that_never_fires_in_one_line(tmp_path: Path) -> None:
    env = clean_env(schedule_incremental="0 0 30 2 *", data_dir=str(tmp_path))
    result = subprocess.run(
        [str(POSSYNC), "worker"], env=env, cwd=tmp_path, capture_output=True, text=True
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: POSSYNC_SCHEDULE_INCREMENTAL: '0 0 30 2 *' never fires (no date matches it): "
        "use a cron that does, or empty to turn the schedule off"
    ]


class FakeClock:
    """Time that moves only when slept through."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds

    def time(self) -> float:
        return self.now


# Nothing listens on port 1 of the loopback: refused at once, every time.
NOTHING_THERE = Database("postgresql://possync:pw@127.0.0.1:1/shop", "public")


def test_waiting_backs_off_one_line_per_attempt_then_gives_up() -> None:
    clock, said = FakeClock(), []
    with pytest.raises(DatabaseUnavailable) as gave_up:
        wait_for_database(NOTHING_THERE, 20, say=said.append, sleep=clock.sleep, clock=clock.time)
    assert clock.slept == [1, 2, 4, 8, 5]  # doubling, and never past the deadline
    assert [line.split(":")[0] for line in said] == [
        f"waiting for PostgreSQL (attempt {n}, next in {s} s)"
        for n, s in ((1, 1), (2, 2), (3, 4), (4, 8), (5, 5))
    ]
    assert all("cannot connect to PostgreSQL at 127.0.0.1:1/shop" in line for line in said)
    message = str(gave_up.value)
    assert "\n" not in message and "pw" not in message
    assert message.endswith("gave up after waiting 20 s (POSSYNC_DATABASE_WAIT_SECONDS)")


def test_zero_seconds_fails_at_once() -> None:
    clock, said = FakeClock(), []
    with pytest.raises(DatabaseUnavailable):
        wait_for_database(NOTHING_THERE, 0, say=said.append, sleep=clock.sleep, clock=clock.time)
    assert (said, clock.slept) == ([], [])


def test_a_refusal_is_not_waited_for(pg_server: Database) -> None:
    clock, said = FakeClock(), []
    missing = pg_server.with_database_name("no_such_database_here")
    with pytest.raises(DatabaseError) as refused:
        wait_for_database(missing, 300, say=said.append, sleep=clock.sleep, clock=clock.time)
    assert not isinstance(refused.value, DatabaseUnavailable)
    assert 'database "no_such_database_here" does not exist' in str(refused.value)
    assert (said, clock.slept) == ([], [])


def test_an_answering_database_is_not_waited_for(db: Database) -> None:
    clock, said = FakeClock(), []
    wait_for_database(db, 300, say=said.append, sleep=clock.sleep, clock=clock.time)
    assert (said, clock.slept) == ([], [])


def test_the_wait_setting_must_be_a_finite_number_of_seconds() -> None:
    assert load_settings(_env_file=None).database_wait_seconds == 300
    for bad in ("-1", "inf", "nan"):
        with pytest.raises(ConfigError) as refused:
            load_settings(_env_file=None, database_wait_seconds=bad)
        assert str(refused.value).startswith("POSSYNC_DATABASE_WAIT_SECONDS: ")
