"""A seller revokes possync's access at Square: the next sync marks the connection revoked
(the refresh is refused too), the shop goes red, every dashboard page shows one banner saying
how to reconnect, and one alert names the shop and the fix, however many syncs fail after."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from bench.trials.endpoints import SmtpInbox, mailto_url, start_smtp
from bench.trials.serving import free_port

from possync.db.connection import Database
from possync.simulator import RunningSimulator, SimulatorConfig, running_simulator
from possync.web import create_app
from tests.oauth.conftest import (
    CLIENT_ID,
    SECRET,
    connect_through_dashboard,
    oauth_settings,
    oauth_variables,
)
from tests.support.cli import RunPossync
from tests.support.environment import environment_for
from tests.web.conftest import log_in

DASHBOARD_URL = "https://possync.shop.example"


@pytest.fixture
def sim() -> Iterator[RunningSimulator]:
    with running_simulator(SimulatorConfig(seed=7, scale="small", stores=2)) as running:
        yield running


@pytest.fixture
def inbox() -> Iterator[SmtpInbox]:
    received = SmtpInbox(port=free_port())
    controller = start_smtp(received)
    yield received
    controller.stop()


def revoke_at_square(sim: RunningSimulator, store: int) -> None:
    """What the seller does in Square's dashboard: every token of the app for them revoked."""
    described = httpx.get(sim.base_url + "/_simulator/stores").json()
    merchant = next(s["merchant_id"] for s in described if s["store"] == store)
    answer = httpx.post(
        sim.base_url + "/oauth2/revoke",
        headers={"Authorization": f"Client {SECRET}"},
        json={"client_id": CLIENT_ID, "merchant_id": merchant},
    )
    assert answer.status_code == 200, answer.text


def test_a_revoked_connection_turns_its_shop_red_with_one_banner_and_one_alert(
    db: Database,
    tmp_path: Path,
    sim: RunningSimulator,
    inbox: SmtpInbox,
    possync_cli: RunPossync,
) -> None:
    settings = oauth_settings(db, tmp_path, sim, public_url=DASHBOARD_URL)
    dashboard = create_app(settings, db)
    client = dashboard.test_client()
    assert log_in(client).status_code == 302
    connect_through_dashboard(client, sim, "square", "west", store=2)
    connect_through_dashboard(client, sim, "lightspeed", "east", store=1)
    env = environment_for(
        db,
        tmp_path,
        **oauth_variables(sim),
        POSSYNC_PUBLIC_URL=DASHBOARD_URL,
        POSSYNC_NOTIFY_URLS=mailto_url(inbox.port),
    )
    first = possync_cli("sync", "--shop", "west", env=env)
    assert first.returncode == 0, first.explain()
    assert client.get("/shops").get_data(as_text=True).count('id="connection-banner"') == 0

    revoke_at_square(sim, store=2)
    for _ in range(2):
        failed = possync_cli("sync", "--shop", "west", env=env)
        assert failed.returncode == 1, failed.explain()
    fix = f"reconnect Square for shop west at {DASHBOARD_URL}/shops/connect/square?name=west"
    assert f"shop west's Square connection was revoked: {fix}" in failed.stdout + failed.stderr

    with db.connect() as conn:
        rows = conn.execute(
            "SELECT shop_name, status, status_detail FROM possync_shop_connections ORDER BY 1"
        ).fetchall()
    assert [row[:2] for row in rows] == [("east", "ok"), ("west", "revoked")]
    assert rows[1][2].endswith(fix)

    status = possync_cli("status", "--shop", "west", "--json", env=env)
    assert status.returncode == 3, status.explain()
    entities = json.loads(status.stdout)["entities"]
    red = [e for e in entities if e["health"] == "red"]
    assert red and all(fix in (e["error_message"] or "") for e in red)
    assert possync_cli("status", "--shop", "east", env=env).returncode != 3

    assert len(inbox.messages) == 1, inbox.subjects
    text, _ = inbox.bodies(0)
    assert "west" in inbox.subjects[0] + text and fix in text

    for page in ("/shops", "/shops/west/jobs", "/shops/east/history", "/shops/west/connections"):
        html = client.get(page).get_data(as_text=True)
        assert html.count('id="connection-banner"') == 1, page
        assert "Shop west: its Square connection is revoked" in html
        assert "/shops/connect/square?name=west" in html
    dashboard.extensions["possync"].job_queue.close()
