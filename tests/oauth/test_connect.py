"""The dashboard's "Connect Lightspeed/Square": the consent round trip through the simulator's
consent pages, the `state` checked (one use, this session's), tokens stored encrypted, the
shop created and migrated, its first import queued; then the shop syncs equal to its store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from bench.trials.square_truth import assert_square_matches_truth
from bench.trials.truth import assert_lightspeed_matches_truth
from flask import Flask
from flask.testing import FlaskClient

from possync.db.connection import Database
from possync.simulator import RunningSimulator, SimulatorConfig, running_simulator
from possync.web import create_app
from tests.oauth.conftest import (
    connect_through_dashboard,
    oauth_settings,
    oauth_variables,
)
from tests.simulator.oauth_support import consent
from tests.support.cli import RunPossync
from tests.support.environment import environment_for
from tests.web.conftest import log_in


@pytest.fixture
def dashboard(db: Database, tmp_path: Path, stores: RunningSimulator) -> Iterator[Flask]:
    app = create_app(oauth_settings(db, tmp_path, stores), db)
    yield app
    app.extensions["possync"].job_queue.close()


def logged_in_client(app: Flask) -> FlaskClient:
    client = app.test_client()
    assert log_in(client).status_code == 302
    return client


def truth(sim: RunningSimulator, store: int) -> dict:  # type: ignore[type-arg]
    return httpx.get(sim.base_url + "/_simulator/truth", params={"store": store}).json()  # type: ignore[no-any-return]


def test_connecting_both_vendors_makes_one_shop_with_encrypted_tokens_and_queued_imports(
    db: Database,
    tmp_path: Path,
    stores: RunningSimulator,
    dashboard: Flask,
    possync_cli: RunPossync,
) -> None:
    client = logged_in_client(dashboard)
    landed = connect_through_dashboard(client, stores, "lightspeed", "north", store=2)
    assert landed.endswith(("/shops/north/", "/shops/north/connections"))
    assert connect_through_dashboard(client, stores, "square", "north", store=2) == landed

    with db.connect() as conn:
        assert conn.execute(
            "SELECT schema_name FROM possync_shops WHERE name = 'north'"
        ).fetchall() == [("shop_north",)]
        assert conn.execute("SELECT to_regclass('shop_north.lightspeed_sales')").fetchone() != (
            None,
        )
        rows = conn.execute(
            """SELECT source, auth, api_url, domain_prefix, access_token, refresh_token,
                      expires_at - now(), refreshed_at IS NOT NULL, status
               FROM possync_shop_connections WHERE shop_name = 'north' ORDER BY source"""
        ).fetchall()
        jobs = conn.execute(
            """SELECT args->>'source', args->>'shop' FROM procrastinate_jobs
               WHERE task_name = 'possync.sync' ORDER BY id"""
        ).fetchall()
    (ls, sq) = rows
    assert ls[:4] == ("lightspeed", "oauth", f"{stores.base_url}/store-2/api/2.0", "store-2")
    assert sq[:4] == ("square", "oauth", stores.square_url, None)
    for row in rows:
        assert row[4] and row[5] and row[7] and row[8] == "ok"
        assert b"lsat_" not in bytes(row[4]) and b"EAAAsim" not in bytes(row[4])
    # Expiry on our clock: Lightspeed's 7 days, Square's 30, whatever the simulated date.
    assert 6.9 < ls[6].total_seconds() / 86400 <= 7
    assert 29.9 < sq[6].total_seconds() / 86400 <= 30
    assert jobs == [("lightspeed", "north"), ("square", "north")]

    page = client.get("/shops/north/connections").get_data(as_text=True)
    assert page.count('data-status="ok"') == 2 and "Disconnect (revoke)" in page

    env = environment_for(db, tmp_path, **oauth_variables(stores))
    synced = possync_cli("sync", "--shop", "north", env=env)
    assert synced.returncode == 0, synced.explain()
    expected = truth(stores, 2)
    with Database(db.url, "shop_north").connect() as conn:
        assert_lightspeed_matches_truth(conn, expected["lightspeed"])
        assert_square_matches_truth(conn, expected["square"])


def test_state_is_single_use_bound_to_the_session_and_to_the_vendor(
    db: Database, stores: RunningSimulator, dashboard: Flask
) -> None:
    owner, stranger = logged_in_client(dashboard), logged_in_client(dashboard)
    started = owner.get("/shops/connect/lightspeed", query_string={"name": "east"})
    target = urlsplit(started.headers["Location"])
    params = {key: values[0] for key, values in parse_qs(target.query).items()}
    assert params["scope"].split() and all(s.endswith(":read") for s in params["scope"].split())
    assert params["response_type"] == "code" and len(params["state"]) >= 32
    back = consent(stores.base_url, target.path, params, store=3)

    assert stranger.get("/oauth/lightspeed/callback", query_string=back).status_code == 400
    assert owner.get("/oauth/square/callback", query_string=back).status_code == 400
    assert owner.get("/oauth/lightspeed/callback", query_string=back).status_code == 302
    assert owner.get("/oauth/lightspeed/callback", query_string=back).status_code == 400
    with db.connect() as conn:
        assert conn.execute("SELECT count(*) FROM possync_shop_connections").fetchone() == (1,)
        assert conn.execute("SELECT count(*) FROM possync_oauth_states").fetchone() == (0,)


def test_bad_names_and_the_environments_shop_are_refused_before_any_consent(
    dashboard: Flask,
) -> None:
    client = logged_in_client(dashboard)
    for name in ("default", "Bad Name", ""):
        answer = client.get("/shops/connect/square", query_string={"name": name})
        assert answer.status_code == 302
        assert urlsplit(answer.headers["Location"]).path == "/shops/connect"
    anonymous = dashboard.test_client().get("/shops/connect/square?name=ok")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]


def test_connecting_a_shop_again_to_another_seller_is_refused_and_changes_nothing(
    db: Database, tmp_path: Path
) -> None:
    with running_simulator(SimulatorConfig(seed=18, scale="small", stores=2)) as sim:
        settings = oauth_settings(db, tmp_path, sim)
        dashboard = create_app(settings, db)
        try:
            client = dashboard.test_client()
            assert log_in(client).status_code == 302
            assert connect_through_dashboard(client, sim, "square", "north", 1) == ("/shops/north/")
            before = _square_connection(db)
            refused = connect_through_dashboard(client, sim, "square", "north", 2)
            assert refused.startswith("/shops/connect")
            page = client.get(refused).get_data(as_text=True)
            assert "connect that one as a new shop (another name)" in page
            assert _square_connection(db) == before  # same seller, same token
            # The same seller again (a reconnect after a revocation) is welcome.
            assert connect_through_dashboard(client, sim, "square", "north", 1) == ("/shops/north/")
        finally:
            dashboard.extensions["possync"].close()


def _square_connection(db: Database) -> bytes:
    """North's Square token as stored (encrypted): it changes with any new grant."""
    with db.connect() as conn:
        row = conn.execute(
            """SELECT access_token FROM possync_shop_connections
               WHERE shop_name = 'north' AND source = 'square'"""
        ).fetchone()
    assert row is not None
    return bytes(row[0])
