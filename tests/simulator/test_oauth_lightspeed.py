"""The simulated Lightspeed OAuth server: consent page, code exchange, rotating refresh
tokens, expiry on the simulated clock, and the API's answer to OAuth access tokens."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from possync.simulator import RunningSimulator, SimulatorConfig, running_simulator
from tests.simulator.oauth_support import CALLBACK, consent

SECRET = "possync-demo-secret"
CLIENT = "my-app"
SCOPE = "products:read sales:read customers:read inventory:read"


@pytest.fixture
def sim() -> Iterator[RunningSimulator]:
    """Lightspeed only, three stores, one-hour access tokens."""
    config = SimulatorConfig(seed=9, square=False, stores=3, lightspeed_token_seconds=3600)
    with running_simulator(config) as running:
        yield running


def authorize(sim: RunningSimulator, store: int | None, state: str = "st-1") -> dict[str, str]:
    params = {
        "response_type": "code",
        "client_id": CLIENT,
        "redirect_uri": CALLBACK,
        "state": state,
        "scope": SCOPE,
    }
    return consent(sim.base_url, "/connect", params, store=store)


def token(sim: RunningSimulator, prefix: str, **form: str) -> httpx.Response:
    body = {"client_id": CLIENT, "client_secret": SECRET, **form}
    return httpx.post(f"{sim.base_url}/{prefix}/api/1.0/token", data=body)


def exchange(sim: RunningSimulator, back: dict[str, str]) -> dict[str, Any]:
    answer = token(
        sim,
        back["domain_prefix"],
        grant_type="authorization_code",
        code=back["code"],
        redirect_uri=CALLBACK,
    )
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def outlets(sim: RunningSimulator, prefix: str, access_token: str) -> httpx.Response:
    return httpx.get(
        f"{sim.base_url}/{prefix}/api/2.0/outlets",
        headers={"Authorization": f"Bearer {access_token}"},
    )


def oauth_counters(sim: RunningSimulator) -> dict[str, Any]:
    counters: dict[str, Any] = httpx.get(sim.base_url + "/_simulator/oauth").json()
    return counters


def test_code_flow_connects_the_chosen_store(sim: RunningSimulator) -> None:
    back = authorize(sim, store=2)
    assert back["domain_prefix"] == "store-2" and back["state"] == "st-1" and back["code"]
    tokens = exchange(sim, back)
    now = int(sim.simulator.clock.now().timestamp())
    assert tokens["token_type"] == "Bearer" and tokens["scope"] == SCOPE
    assert tokens["domain_prefix"] == "store-2"
    assert tokens["expires"] == now + 3600 and tokens["expires_in"] == 3600
    assert tokens["refresh_token"] and tokens["access_token"] != tokens["refresh_token"]
    served = outlets(sim, "store-2", tokens["access_token"])
    personal = httpx.get(
        sim.lightspeed_url + "/outlets", headers={"Authorization": f"Bearer {sim.token}-2"}
    )
    assert served.status_code == 200 and served.json() == personal.json()
    # The token opens store 2 only: at the plain mount too, but not at another domain.
    plain = httpx.get(
        sim.lightspeed_url + "/outlets",
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
    )
    assert plain.json() == personal.json()
    assert outlets(sim, "store-3", tokens["access_token"]).status_code == 401
    # The default store is 1; the token endpoint also answers without a domain segment.
    first = authorize(sim, store=None)
    assert first["domain_prefix"] == "store-1"
    answer = httpx.post(
        sim.base_url + "/api/1.0/token",
        data={
            "client_id": CLIENT,
            "client_secret": SECRET,
            "grant_type": "authorization_code",
            "code": first["code"],
        },
    )
    assert answer.json()["domain_prefix"] == "store-1"


def test_codes_are_single_use_and_live_five_simulated_minutes(sim: RunningSimulator) -> None:
    back = authorize(sim, store=1)
    exchange(sim, back)
    again = token(sim, "store-1", grant_type="authorization_code", code=back["code"])
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    late = authorize(sim, store=1)
    sim.simulator.advance(4)
    on_time = authorize(sim, store=1)
    sim.simulator.advance(1)
    expired = token(sim, "store-1", grant_type="authorization_code", code=late["code"])
    assert expired.status_code == 400 and expired.json()["error"] == "invalid_grant"
    assert "expired" in expired.json()["error_description"]
    exchange(sim, on_time)
    # A code is for its store's domain only.
    other = authorize(sim, store=2)
    wrong = token(sim, "store-3", grant_type="authorization_code", code=other["code"])
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    counters = oauth_counters(sim)["lightspeed"]
    assert counters["codes_issued"] == 4 and counters["codes_exchanged"] == 2
    assert counters["codes_refused"] == 3


def test_refresh_tokens_rotate_and_reuse_is_refused_and_counted(sim: RunningSimulator) -> None:
    tokens = exchange(sim, authorize(sim, store=3))
    first_refresh = tokens["refresh_token"]
    renewed = token(sim, "store-3", grant_type="refresh_token", refresh_token=first_refresh)
    assert renewed.status_code == 200
    fresh = renewed.json()
    assert fresh["refresh_token"] != first_refresh
    assert fresh["access_token"] != tokens["access_token"]
    assert fresh["domain_prefix"] == "store-3" and fresh["scope"] == SCOPE
    reused = token(sim, "store-3", grant_type="refresh_token", refresh_token=first_refresh)
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"
    assert outlets(sim, "store-3", fresh["access_token"]).status_code == 200
    again = token(sim, "store-3", grant_type="refresh_token", refresh_token=fresh["refresh_token"])
    assert again.status_code == 200
    counters = oauth_counters(sim)
    assert counters["refreshes"] == 2 and counters["reused_refresh_tokens"] == 1
    assert counters["lightspeed"]["reused_refresh_tokens"] == 1


def test_concurrent_refreshes_with_one_token_let_exactly_one_win(sim: RunningSimulator) -> None:
    refresh_token = exchange(sim, authorize(sim, store=1))["refresh_token"]
    statuses: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(6)

    def refresh() -> None:
        start.wait()
        answer = token(sim, "store-1", grant_type="refresh_token", refresh_token=refresh_token)
        with lock:
            statuses.append(answer.status_code)

    threads = [threading.Thread(target=refresh) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 400, 400, 400, 400, 400]
    counters = oauth_counters(sim)
    assert counters["refreshes"] == 1 and counters["reused_refresh_tokens"] == 5


def test_access_tokens_expire_on_the_simulated_clock(sim: RunningSimulator) -> None:
    tokens = exchange(sim, authorize(sim, store=2))
    sim.simulator.advance(59)
    assert outlets(sim, "store-2", tokens["access_token"]).status_code == 200
    sim.simulator.advance(1)
    expired = outlets(sim, "store-2", tokens["access_token"])
    assert expired.status_code == 401 and expired.json() == {"error": "Access token has expired"}
    renewed = token(
        sim, "store-2", grant_type="refresh_token", refresh_token=tokens["refresh_token"]
    ).json()
    assert renewed["expires"] == int(sim.simulator.clock.now().timestamp()) + 3600
    assert outlets(sim, "store-2", renewed["access_token"]).status_code == 200
    assert oauth_counters(sim)["lightspeed"]["refused_access_tokens"] == 1


def test_token_endpoint_refuses_bad_clients_and_bodies(sim: RunningSimulator) -> None:
    back = authorize(sim, store=1)
    wrong = httpx.post(
        sim.base_url + "/store-1/api/1.0/token",
        data={
            "client_id": CLIENT,
            "client_secret": "not-the-secret",
            "grant_type": "authorization_code",
            "code": back["code"],
        },
    )
    assert wrong.status_code == 401
    assert wrong.json() == {
        "error": "invalid_client",
        "error_description": "client authentication failed",
    }
    as_json = httpx.post(
        sim.base_url + "/store-1/api/1.0/token",
        json={"client_id": CLIENT, "client_secret": SECRET, "grant_type": "authorization_code"},
    )
    assert as_json.status_code == 400 and as_json.json()["error"] == "invalid_request"
    odd = token(sim, "store-1", grant_type="password")
    assert odd.status_code == 400 and odd.json()["error"] == "unsupported_grant_type"
    # The code survived the refused attempts: it is still good once.
    exchange(sim, back)


def test_consent_page_refuses_bad_requests_without_redirecting(sim: RunningSimulator) -> None:
    good = {
        "response_type": "code",
        "client_id": CLIENT,
        "redirect_uri": CALLBACK,
        "state": "s",
        "scope": SCOPE,
    }
    for name, value in (
        ("scope", None),
        ("client_id", None),
        ("redirect_uri", None),
        ("response_type", "token"),
        ("redirect_uri", "javascript:alert(1)"),
    ):
        params = {k: v for k, v in good.items() if k != name}
        if value is not None:
            params[name] = value
        page = httpx.get(sim.base_url + "/connect", params=params)
        assert page.status_code == 400 and "Location" not in page.headers
    refused = httpx.post(
        sim.base_url + "/connect",
        data={**good, "decision": "allow", "store": "4"},
    )
    assert refused.status_code == 400 and "from 1 to 3" in refused.text
    denied = consent(sim.base_url, "/connect", good, store=1, allow=False)
    assert denied == {"error": "access_denied", "state": "s"}
