"""A database synced from the Lightspeed simulator (real HTTP, real PostgreSQL) and a
logged-in dashboard client on it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest
from flask import Flask
from flask.testing import FlaskClient

from possync.config.settings import Settings
from possync.db.connection import Database
from possync.engine.run import SyncRequest, run_sync
from possync.simulator import RunningSimulator
from possync.simulator.lightspeed.state import LightspeedState
from possync.sources.lightspeed import LightspeedSource
from possync.sources.square import SquareSource
from possync.web import create_app
from tests.conftest import make_settings
from tests.support.retry import FAST_RETRY
from tests.support.simulators import simulator_fixture
from tests.web.conftest import PASSWORD, log_in

simulator = simulator_fixture(seed=11, square=False)


def lightspeed_state(sim: RunningSimulator) -> LightspeedState:
    store: Any = sim.simulator.apis["lightspeed"]  # the in-process LightspeedStore
    return cast(LightspeedState, store.state)


@pytest.fixture
def synced_settings(db: Database, tmp_path: Path, simulator: RunningSimulator) -> Settings:
    """Settings for a database holding the simulator's store after a full import."""
    settings = make_settings(
        db,
        tmp_path,
        lightspeed_url=simulator.lightspeed_url,
        lightspeed_token=simulator.token,
        lightspeed_page_size=500,
        dashboard_password=PASSWORD,
        secret_key="test-secret-key",
        timezone="Pacific/Auckland",
    )
    source = LightspeedSource(settings, retry=FAST_RETRY)
    try:
        report = run_sync(settings, db, SyncRequest("lightspeed"), source=source)
    finally:
        source.close()
    assert report.ok, [r.error for r in report.failed]
    return settings


@pytest.fixture
def analytics_app(synced_settings: Settings, db: Database) -> Iterator[Flask]:
    app = create_app(synced_settings, db)
    yield app
    app.extensions["possync"].job_queue.close()


@pytest.fixture
def client(analytics_app: Flask) -> FlaskClient:
    test_client = analytics_app.test_client()
    assert log_in(test_client).status_code == 302
    return test_client


@pytest.fixture
def analytics_app_client(analytics_app: Flask) -> FlaskClient:
    """A client that has not logged in."""
    return analytics_app.test_client()


square_sim = simulator_fixture(seed=5, lightspeed=False)


@pytest.fixture
def square_app(db: Database, tmp_path: Path, square_sim: RunningSimulator) -> Iterator[Flask]:
    """The dashboard on a database holding the Square simulator's store after a full import."""
    settings = make_settings(
        db,
        tmp_path,
        square_url=square_sim.square_url,
        square_token=square_sim.token,
        dashboard_password=PASSWORD,
        secret_key="test-secret-key",
    )
    source = SquareSource(settings, retry=FAST_RETRY)
    try:
        report = run_sync(settings, db, SyncRequest("square"), source=source)
    finally:
        source.close()
    assert report.ok, [r.error for r in report.failed]
    app = create_app(settings, db)
    yield app
    app.extensions["possync"].job_queue.close()


@pytest.fixture
def square_client(square_app: Flask) -> FlaskClient:
    client = square_app.test_client()
    assert log_in(client).status_code == 302
    return client
