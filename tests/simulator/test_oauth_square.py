"""The simulated Square OAuth server (code flow): consent page, ObtainToken with codes and
reusable refresh tokens, 30-day access tokens on the simulated clock, RevokeToken."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from possync.simulator import RunningSimulator, SimulatorConfig, running_simulator
from tests.simulator.oauth_support import CALLBACK, consent

SECRET = "square-test-secret"
CLIENT = "sq0idp-simulated"
SCOPE = "ORDERS_READ ITEMS_READ INVENTORY_READ CUSTOMERS_READ PAYMENTS_READ MERCHANT_PROFILE_READ"


@pytest.fixture
def sim() -> Iterator[RunningSimulator]:
    """Square only, two stores, a client secret of its own."""
    config = SimulatorConfig(seed=10, lightspeed=False, stores=2, oauth_client_secret=SECRET)
    with running_simulator(config) as running:
        yield running


def authorize(sim: RunningSimulator, store: int | None) -> dict[str, str]:
    params = {
        "client_id": CLIENT,
        "scope": SCOPE,
        "session": "false",
        "state": "sq-state",
        "redirect_uri": CALLBACK,
    }
    return consent(sim.base_url, "/oauth2/authorize", params, store=store)


def obtain(sim: RunningSimulator, **body: str) -> httpx.Response:
    return httpx.post(
        sim.base_url + "/oauth2/token",
        json={"client_id": CLIENT, "client_secret": SECRET, **body},
    )


def connect(sim: RunningSimulator, store: int) -> dict[str, Any]:
    back = authorize(sim, store)
    answer = obtain(sim, grant_type="authorization_code", code=back["code"])
    assert answer.status_code == 200, answer.text
    tokens: dict[str, Any] = answer.json()
    return tokens


def locations(sim: RunningSimulator, access_token: str) -> httpx.Response:
    return httpx.get(
        sim.base_url + "/v2/locations", headers={"Authorization": f"Bearer {access_token}"}
    )


def thirty_days_on(sim: RunningSimulator) -> str:
    return (sim.simulator.clock.now() + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_code_flow_connects_the_chosen_store(sim: RunningSimulator) -> None:
    back = authorize(sim, store=2)
    assert back["state"] == "sq-state" and back["response_type"] == "code"
    answer = obtain(sim, grant_type="authorization_code", code=back["code"])
    assert answer.status_code == 200
    tokens = answer.json()
    assert tokens["token_type"] == "bearer"
    assert tokens["expires_at"] == thirty_days_on(sim)
    personal = locations(sim, f"{sim.token}-2").json()
    assert {loc["merchant_id"] for loc in personal["locations"]} == {tokens["merchant_id"]}
    served = locations(sim, tokens["access_token"])
    assert served.status_code == 200 and served.json() == personal
    assert tokens["merchant_id"] != sim.simulator.store(1).merchant_id()
    # Store 1 by default.
    first = connect(sim, store=1)
    assert locations(sim, first["access_token"]).json() == locations(sim, sim.token).json()


def test_codes_are_single_use_and_expire_after_five_minutes(sim: RunningSimulator) -> None:
    back = authorize(sim, store=1)
    assert obtain(sim, grant_type="authorization_code", code=back["code"]).status_code == 200
    reused = obtain(sim, grant_type="authorization_code", code=back["code"])
    assert reused.status_code == 400 and reused.json()["type"] == "bad_request"
    late = authorize(sim, store=1)
    sim.simulator.advance(5)
    expired = obtain(sim, grant_type="authorization_code", code=late["code"])
    assert expired.status_code == 400
    assert expired.json() == {
        "message": "the authorization code has expired",
        "type": "bad_request",
    }


def test_refresh_token_is_reusable(sim: RunningSimulator) -> None:
    tokens = connect(sim, store=2)
    renewals = [
        obtain(sim, grant_type="refresh_token", refresh_token=tokens["refresh_token"])
        for _ in range(3)
    ]
    assert [r.status_code for r in renewals] == [200, 200, 200]
    assert {r.json()["refresh_token"] for r in renewals} == {tokens["refresh_token"]}
    assert len({r.json()["access_token"] for r in renewals}) == 3
    assert {r.json()["merchant_id"] for r in renewals} == {tokens["merchant_id"]}
    counters = httpx.get(sim.base_url + "/_simulator/oauth").json()
    assert counters["refreshes"] == 3 and counters["reused_refresh_tokens"] == 0


def test_access_token_expires_after_thirty_simulated_days(sim: RunningSimulator) -> None:
    tokens = connect(sim, store=2)
    sim.simulator.advance(30 * 24 * 60 - 1)
    assert locations(sim, tokens["access_token"]).status_code == 200
    sim.simulator.advance(1)
    expired = locations(sim, tokens["access_token"])
    assert expired.status_code == 401
    assert expired.json()["errors"][0]["code"] == "ACCESS_TOKEN_EXPIRED"
    renewed = obtain(sim, grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert renewed.json()["expires_at"] == thirty_days_on(sim)
    assert locations(sim, renewed.json()["access_token"]).status_code == 200


def test_revoke_ends_every_token_of_the_app_for_that_seller(sim: RunningSimulator) -> None:
    tokens = connect(sim, store=2)
    other_store = connect(sim, store=1)
    revoke_url = sim.base_url + "/oauth2/revoke"
    body = {"client_id": CLIENT, "access_token": tokens["access_token"]}
    wrong = httpx.post(revoke_url, json=body, headers={"Authorization": "Client nope"})
    assert wrong.status_code == 401
    assert wrong.json() == {"message": "Not Authorized", "type": "service.not_authorized"}
    assert locations(sim, tokens["access_token"]).status_code == 200
    done = httpx.post(revoke_url, json=body, headers={"Authorization": f"Client {SECRET}"})
    assert done.status_code == 200 and done.json() == {"success": True}
    refused = locations(sim, tokens["access_token"])
    assert refused.status_code == 401
    assert refused.json()["errors"][0]["code"] == "ACCESS_TOKEN_REVOKED"
    again = obtain(sim, grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert again.status_code == 400
    assert locations(sim, other_store["access_token"]).status_code == 200
    # By merchant id: a fresh connection of store 1 is revoked too.
    by_merchant = httpx.post(
        revoke_url,
        json={"client_id": CLIENT, "merchant_id": other_store["merchant_id"]},
        headers={"Authorization": f"Client {SECRET}"},
    )
    assert by_merchant.json() == {"success": True}
    assert locations(sim, other_store["access_token"]).status_code == 401


def test_wrong_client_secret_is_refused_in_squares_shape(sim: RunningSimulator) -> None:
    back = authorize(sim, store=1)
    wrong = httpx.post(
        sim.base_url + "/oauth2/token",
        json={
            "client_id": CLIENT,
            "client_secret": "possync-demo-secret",
            "grant_type": "authorization_code",
            "code": back["code"],
        },
    )
    assert wrong.status_code == 401
    assert wrong.json() == {"message": "Not Authorized", "type": "service.not_authorized"}
    assert obtain(sim, grant_type="authorization_code", code=back["code"]).status_code == 200


def test_lightspeed_tokens_do_not_open_square_and_back() -> None:
    with running_simulator(SimulatorConfig(seed=11)) as both:
        square = consent(
            both.base_url,
            "/oauth2/authorize",
            {"client_id": CLIENT, "scope": SCOPE, "redirect_uri": CALLBACK},
            store=1,
        )
        tokens = httpx.post(
            both.base_url + "/oauth2/token",
            json={
                "client_id": CLIENT,
                "client_secret": "possync-demo-secret",
                "grant_type": "authorization_code",
                "code": square["code"],
            },
        ).json()
        assert locations(both, tokens["access_token"]).status_code == 200
        on_lightspeed = httpx.get(
            both.lightspeed_url + "/outlets",
            headers={"Authorization": f"Bearer {tokens['access_token']}"},
        )
        assert on_lightspeed.status_code == 401
        # A Square code cannot be exchanged at Lightspeed's token endpoint.
        again = consent(
            both.base_url,
            "/oauth2/authorize",
            {"client_id": CLIENT, "scope": SCOPE, "redirect_uri": CALLBACK},
            store=1,
        )
        crossed = httpx.post(
            both.base_url + "/api/1.0/token",
            data={
                "client_id": CLIENT,
                "client_secret": "possync-demo-secret",
                "grant_type": "authorization_code",
                "code": again["code"],
            },
        )
        assert crossed.status_code == 400 and crossed.json()["error"] == "invalid_grant"
