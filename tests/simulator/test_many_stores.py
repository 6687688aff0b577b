"""`--stores N`: independent stores behind one simulator, chosen by TOKEN-k (or a Lightspeed
domain-prefix path), each with its own data, truth, faults and rate-limit budget."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from possync.simulator import RunningSimulator, SimulatorConfig, running_simulator
from tests.simulator.ls_support import walk

TOKEN = "possync-demo-token"
RUN_CLI = "from possync.cli.main import main; main()"


@pytest.fixture(scope="module")
def three_stores() -> Iterator[RunningSimulator]:
    """Three stores; read-only tests share it."""
    with running_simulator(SimulatorConfig(seed=4, scale="small", stores=3)) as running:
        yield running


def ls_get(sim: RunningSimulator, path: str, token: str, **params: Any) -> httpx.Response:
    return httpx.get(
        sim.lightspeed_url + path, params=params, headers={"Authorization": f"Bearer {token}"}
    )


def sq_get(sim: RunningSimulator, path: str, token: str) -> httpx.Response:
    return httpx.get(sim.base_url + path, headers={"Authorization": f"Bearer {token}"})


def ids(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return sorted(record["id"] for record in response.json()["data"])


def test_each_token_opens_its_own_store(three_stores: RunningSimulator) -> None:
    outlets = {k: ids(ls_get(three_stores, "/outlets", f"{TOKEN}-{k}")) for k in (1, 2, 3)}
    assert ids(ls_get(three_stores, "/outlets", TOKEN)) == outlets[1]
    assert len({tuple(v) for v in outlets.values()}) == 3
    merchants = set()
    for k in (1, 2, 3):
        response = sq_get(three_stores, "/v2/locations", f"{TOKEN}-{k}")
        assert response.status_code == 200
        merchants |= {location["merchant_id"] for location in response.json()["locations"]}
    assert len(merchants) == 3
    for bad in (f"{TOKEN}-0", f"{TOKEN}-4", f"{TOKEN}-01", f"{TOKEN}x-2", "TOKEN-2"):
        assert ls_get(three_stores, "/outlets", bad).status_code == 401
        assert sq_get(three_stores, "/v2/locations", bad).status_code == 401


def test_each_store_has_its_own_truth_matching_its_api(three_stores: RunningSimulator) -> None:
    truths = {
        k: httpx.get(three_stores.base_url + "/_simulator/truth", params={"store": k}).json()
        for k in (1, 2, 3)
    }
    assert httpx.get(three_stores.base_url + "/_simulator/truth").json() == truths[1]
    for k, truth in truths.items():
        with httpx.Client(
            base_url=three_stores.lightspeed_url,
            headers={"Authorization": f"Bearer {TOKEN}-{k}"},
        ) as client:
            sales, _ = walk(client, "sales")
        served = sorted(sale["id"] for sale in sales)
        expected = truth["lightspeed"]["entities"]["sales"]
        assert served == sorted(expected["alive"] + expected["deleted"])
        assert truth["square"]["entities"]["orders"]["alive"]
    sale_sets = [set(truths[k]["lightspeed"]["entities"]["sales"]["alive"]) for k in (1, 2, 3)]
    assert not sale_sets[0] & sale_sets[1] and not sale_sets[1] & sale_sets[2]
    # Store 1 is the --scale store; the others are smaller.
    assert len(sale_sets[0]) > len(sale_sets[1])
    for bad in ("0", "4", "two"):
        answer = httpx.get(three_stores.base_url + "/_simulator/truth", params={"store": bad})
        assert answer.status_code == 400


def test_store_one_is_the_one_store_simulator(three_stores: RunningSimulator) -> None:
    with running_simulator(SimulatorConfig(seed=4, scale="small")) as single:
        assert single.simulator.truth() == three_stores.simulator.truth(1)
        assert (
            ls_get(single, "/outlets", TOKEN).json()
            == ls_get(three_stores, "/outlets", f"{TOKEN}-1").json()
        )


def test_domain_prefix_path_chooses_the_lightspeed_store(three_stores: RunningSimulator) -> None:
    base = three_stores.base_url
    headers = {"Authorization": f"Bearer {TOKEN}-2"}
    by_prefix = httpx.get(base + "/store-2/api/2.0/outlets", headers=headers)
    assert ids(by_prefix) == ids(ls_get(three_stores, "/outlets", f"{TOKEN}-2"))
    # A token opens only its own store's domain.
    wrong = httpx.get(base + "/store-3/api/2.0/outlets", headers=headers)
    assert wrong.status_code == 401
    assert (
        httpx.get(
            base + "/store-3/api/2.0/outlets", headers={"Authorization": f"Bearer {TOKEN}"}
        ).status_code
        == 401
    )
    assert httpx.get(base + "/store-4/api/2.0/outlets", headers=headers).status_code == 404


def test_stores_are_built_on_first_use_and_replay_every_advance() -> None:
    """A store built after time travel equals one that lived through it."""
    config = SimulatorConfig(seed=5, scale="small", stores=2)
    with running_simulator(config) as early, running_simulator(config) as late:
        listing = httpx.get(late.base_url + "/_simulator/stores").json()
        assert [(s["store"], s["built"], s["domain_prefix"]) for s in listing] == [
            (1, True, "store-1"),
            (2, False, "store-2"),
        ]
        assert ls_get(early, "/outlets", f"{TOKEN}-2").status_code == 200
        for minutes in (90, 24 * 60):
            for sim in (early, late):
                changes = httpx.post(
                    sim.base_url + "/_simulator/advance", json={"minutes": minutes}
                ).json()
                assert "lightspeed" in changes and "stores" in changes
            assert set(changes["stores"]) == {"1"}  # late's store 2 does not exist yet
        assert ls_get(late, "/outlets", f"{TOKEN}-2").status_code == 200
        assert httpx.get(late.base_url + "/_simulator/stores").json()[1]["built"] is True
        assert early.simulator.truth(2) == late.simulator.truth(2)
        assert (
            early.simulator.truth(2)["lightspeed"]["clock"]
            == early.simulator.clock.now().isoformat()
        )


def test_faults_and_stats_per_store() -> None:
    with running_simulator(SimulatorConfig(seed=6, stores=2, square=False)) as sim:
        control = sim.base_url + "/_simulator"
        set_two = httpx.post(control + "/faults", params={"store": 2}, json={"error_rate": 1})
        assert set_two.json()["config"]["error_rate"] == 1
        assert ls_get(sim, "/taxes", f"{TOKEN}-2").status_code == 500
        assert ls_get(sim, "/taxes", f"{TOKEN}-1").status_code == 200
        assert httpx.get(control + "/faults").json()["config"]["error_rate"] == 0
        assert httpx.get(control + "/faults", params={"store": 2}).json()["injected"]["error"] == 1
        assert httpx.get(control + "/stats", params={"store": 2}).json()["requests"] == {
            "lightspeed": 1
        }
        totals = httpx.get(control + "/stats").json()
        assert totals["requests"] == {"lightspeed": 2} and totals["stores_built"] == 2
        # Without `store`, every store gets the faults.
        httpx.post(control + "/faults", json={"error_rate": 0.0, "rate_limit_burst": 1})
        assert ls_get(sim, "/taxes", f"{TOKEN}-1").status_code == 429
        assert ls_get(sim, "/taxes", f"{TOKEN}-2").status_code == 429
        assert ls_get(sim, "/taxes", f"{TOKEN}-2").status_code == 200


def test_each_store_has_its_own_rate_limit_budget() -> None:
    config = SimulatorConfig(
        seed=7, stores=2, square=False, rate_limit=True, rate_limit_window_seconds=60
    )
    with running_simulator(config) as sim, httpx.Client(base_url=sim.lightspeed_url) as client:
        two = {"Authorization": f"Bearer {TOKEN}-2"}
        first = client.get("/taxes", headers=two)
        limit = int(first.headers["X-RateLimit-Limit"])
        assert limit == 350  # a tiny store has one register: 300 × 1 + 50
        for _ in range(limit - 1):
            assert client.get("/taxes", headers=two).status_code == 200
        refused = client.get("/taxes", headers=two)
        assert refused.status_code == 429 and "Retry-After" in refused.headers
        one = client.get("/taxes", headers={"Authorization": f"Bearer {TOKEN}"})
        assert one.status_code == 200
        assert one.headers["X-RateLimit-Remaining"] == str(
            int(one.headers["X-RateLimit-Limit"]) - 1
        )


def test_corrupt_targets_one_store() -> None:
    with running_simulator(SimulatorConfig(seed=8, stores=2, square=False)) as sim:
        control = sim.base_url + "/_simulator"
        corrupted = httpx.post(
            control + "/corrupt", params={"store": 2}, json={"entity": "customers", "count": 2}
        ).json()["corrupted"]
        assert len(corrupted) == 2
        assert sim.simulator.truth(2)["lightspeed"]["malformed"]["customers"] == sorted(corrupted)
        assert sim.simulator.truth(1)["lightspeed"]["malformed"]["customers"] == []


def test_cli_serves_many_stores_and_takes_the_oauth_secret() -> None:
    command = [sys.executable, "-c", RUN_CLI, "simulator", "--port", "0", "--no-square"]
    command += ["--stores", "3", "--oauth-client-secret", "cli-secret"]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline().strip() for _ in range(6)]
        base = lines[1].split("=", 1)[1]
        assert f"# stores 1..3: tokens {TOKEN}-1 .. {TOKEN}-3" in lines
        third = httpx.get(base + "/outlets", headers={"Authorization": f"Bearer {TOKEN}-3"})
        assert third.status_code == 200 and third.json()["data"]
        root = base.removesuffix("/api/2.0")
        form = {"client_id": "x", "grant_type": "authorization_code", "code": "nope"}
        wrong = httpx.post(root + "/api/1.0/token", data={**form, "client_secret": "no"})
        assert wrong.status_code == 401
        right = httpx.post(root + "/api/1.0/token", data={**form, "client_secret": "cli-secret"})
        assert right.status_code == 400 and right.json()["error"] == "invalid_grant"
    finally:
        process.terminate()
        process.wait(timeout=10)
    refused = subprocess.run(
        [sys.executable, "-c", RUN_CLI, "simulator", "--port", "0", "--stores", "0"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert refused.returncode == 2 and "Invalid value" in refused.stderr
