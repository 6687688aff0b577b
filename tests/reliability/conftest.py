"""Fixtures of the reliability suite. Bounded by default (it runs in CI with the rest);
POSSYNC_RELIABILITY_TRIALS=N runs N kill trials per source and scales the other scenarios
(`python -m bench.reliability --trials N` does the same and writes the table)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
from bench.trials.harness import LIGHTSPEED, SQUARE, DatabaseFactory, TrialCounts
from bench.trials.pgserver import RestartableServer
from psycopg import sql

from possync.db.connection import Database
from possync.simulator import RunningSimulator, running_simulator
from tests.conftest import TEMPLATE_NAME

BOUNDED_KILLS = 4


@pytest.fixture(scope="session")
def counts() -> TrialCounts:
    return TrialCounts(int(os.environ.get("POSSYNC_RELIABILITY_TRIALS", BOUNDED_KILLS)))


@pytest.fixture
def ls_sim() -> Iterator[RunningSimulator]:
    with running_simulator(LIGHTSPEED.simulator_config(seed=21)) as sim:
        yield sim


@pytest.fixture
def sq_sim() -> Iterator[RunningSimulator]:
    with running_simulator(SQUARE.simulator_config(seed=23)) as sim:
        yield sim


@pytest.fixture(scope="module")
def restartable_server() -> Iterator[RestartableServer]:
    """A PostgreSQL server of its own, which the test may restart."""
    server = RestartableServer()
    yield server
    server.stop()


@pytest.fixture
def new_database(pg_server: Database, template_db: Database) -> Iterator[DatabaseFactory]:
    """Makes fresh migrated databases (one per trial), dropped when the test ends."""
    made: list[str] = []

    @contextmanager
    def make() -> Iterator[Database]:
        name = f"rel_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(pg_server.url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                    sql.Identifier(name), sql.Identifier(TEMPLATE_NAME)
                )
            )
        made.append(name)
        yield pg_server.with_database_name(name)

    yield make
    with psycopg.connect(pg_server.url, autocommit=True) as conn:
        for name in made:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
