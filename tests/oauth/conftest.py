"""Fixtures for the OAuth client tests: a simulator with several stores and both vendors'
OAuth servers, settings naming possync's apps there, and the dashboard's connect flow driven
through the simulator's consent pages."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from cryptography.fernet import Fernet
from flask.testing import FlaskClient

from possync.config.settings import Settings
from possync.db.connection import Database
from possync.simulator import RunningSimulator, SimulatorConfig, running_simulator
from tests.conftest import make_settings
from tests.simulator.oauth_support import consent

KEY = Fernet.generate_key().decode()
CLIENT_ID = "possync-test-app"
SECRET = "possync-demo-secret"  # what the simulator accepts by default
PASSWORD = "correct horse battery staple"


def oauth_variables(sim: RunningSimulator) -> dict[str, str]:
    """The OAuth settings (as POSSYNC_ variables) for possync's apps at the simulator."""
    return {
        "POSSYNC_ENCRYPTION_KEY": KEY,
        "POSSYNC_LIGHTSPEED_CLIENT_ID": CLIENT_ID,
        "POSSYNC_LIGHTSPEED_CLIENT_SECRET": SECRET,
        "POSSYNC_LIGHTSPEED_AUTHORIZE_URL": sim.base_url + "/connect",
        "POSSYNC_LIGHTSPEED_STORE_URL": sim.base_url + "/{domain_prefix}",
        "POSSYNC_SQUARE_APPLICATION_ID": CLIENT_ID,
        "POSSYNC_SQUARE_APPLICATION_SECRET": SECRET,
        "POSSYNC_SQUARE_URL": sim.square_url,
    }


def oauth_settings(
    db: Database, tmp_path: Path, sim: RunningSimulator, **extra: object
) -> Settings:
    values: dict[str, object] = {
        name.removeprefix("POSSYNC_").lower(): value for name, value in oauth_variables(sim).items()
    }
    values.update(
        dashboard_password=PASSWORD,
        secret_key="test-secret-key",
        schedule_incremental="",
        schedule_deep="",
        **extra,
    )
    return make_settings(db, tmp_path, **values)


@pytest.fixture(scope="module")
def stores() -> Iterator[RunningSimulator]:
    with running_simulator(SimulatorConfig(seed=18, scale="small", stores=3)) as running:
        yield running


def connect_through_dashboard(
    client: FlaskClient, sim: RunningSimulator, vendor: str, name: str, store: int
) -> str:
    """Press "Connect <vendor>" for shop `name`, allow store `store` on the simulator's consent
    page, follow the redirect back; the dashboard's final Location."""
    started = client.get(f"/shops/connect/{vendor}", query_string={"name": name})
    assert started.status_code == 302, started.get_data(as_text=True)
    target = urlsplit(started.headers["Location"])
    assert f"{target.scheme}://{target.netloc}" == sim.base_url
    params = {key: values[0] for key, values in parse_qs(target.query).items()}
    back = consent(sim.base_url, target.path, params, store=store)
    callback = urlsplit(params["redirect_uri"])
    finished = client.get(callback.path, query_string=back)
    assert finished.status_code == 302, finished.get_data(as_text=True)
    return str(finished.headers["Location"])


def oauth_counters(sim: RunningSimulator) -> dict[str, object]:
    counters: dict[str, object] = httpx.get(sim.base_url + "/_simulator/oauth").json()
    return counters
