"""The simulator around the APIs: mounting, auth, rate limiting, stats, corruption, CLI."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx
import pytest

from possync.simulator import RunningSimulator, SimulatorConfig, running_simulator
from possync.simulator.lightspeed.ratelimit import RateLimiter, rate_limit_for
from tests.simulator.ls_support import walk

RUN_CLI = "from possync.cli.main import main; main()"


def test_mounts_and_requires_the_bearer_token(simulator: RunningSimulator) -> None:
    assert set(simulator.simulator.apis) >= {"lightspeed"}
    for headers in (
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": f"Basic {simulator.token}"},
    ):
        response = httpx.get(simulator.lightspeed_url + "/sales", headers=headers)
        assert response.status_code == 401
        assert response.json() == {"error": "Access token is not valid"}
        assert response.headers["X-RateLimit-Limit"] == "1250"
        assert simulator.token not in response.text
    if "square" in simulator.simulator.apis:
        assert httpx.get(simulator.base_url + "/v2/locations").status_code == 401
    ok = httpx.get(
        simulator.lightspeed_url + "/outlets",
        headers={"Authorization": f"Bearer {simulator.token}"},
    )
    assert ok.status_code == 200 and ok.headers["X-RateLimit-Remaining"] == "1250"
    assert httpx.get(simulator.base_url + "/elsewhere").status_code == 404


def test_stats_count_requests_per_api(simulator: RunningSimulator) -> None:
    before = simulator.simulator.stats().get("lightspeed", 0)
    httpx.get(simulator.lightspeed_url + "/taxes")
    stats = httpx.get(simulator.base_url + "/_simulator/stats").json()
    assert stats["requests"]["lightspeed"] == before + 1


def test_rate_limit_window_and_retry_after() -> None:
    now = [100.0]
    limiter = RateLimiter(
        lambda: 3,
        enforce=True,
        window_seconds=10,
        monotonic=lambda: now[0],
        wall=lambda: 1_700_000_000.0,
    )
    assert [limiter.admit() for _ in range(4)] == [True, True, True, False]
    assert limiter.headers() == {"X-RateLimit-Limit": "3", "X-RateLimit-Remaining": "0"}
    now[0] += 4
    assert limiter.retry_after() == "Tue, 14 Nov 2023 22:13:26 GMT"  # wall + 6 s left
    now[0] += 6
    assert limiter.admit() and limiter.headers()["X-RateLimit-Remaining"] == "2"
    assert rate_limit_for(4) == 1250


def test_rate_limit_enforced_over_http() -> None:
    config = SimulatorConfig(square=False, rate_limit=True, rate_limit_window_seconds=30)
    with (
        running_simulator(config) as running,
        httpx.Client(
            base_url=running.lightspeed_url, headers={"Authorization": f"Bearer {running.token}"}
        ) as client,
    ):
        remaining = [
            int(client.get("/taxes").headers["X-RateLimit-Remaining"]) for _ in range(1250)
        ]
        assert remaining[:2] == [1249, 1248] and remaining[-1] == 0
        refused = client.get("/taxes")
        assert refused.status_code == 429
        assert refused.json() == {"error": "Too Many Requests", "message": "Rate limiting enforced"}
        wait = (
            parsedate_to_datetime(refused.headers["Retry-After"]) - datetime.now(UTC)
        ).total_seconds()
        assert 0 < wait <= 31


def test_corrupt_records_for_quarantine_tests(
    fresh_lightspeed: RunningSimulator, fresh_lightspeed_client: httpx.Client
) -> None:
    simulator = fresh_lightspeed.simulator
    before = simulator.truth()["lightspeed"]
    mark = max(r["version"] for r in walk(fresh_lightspeed_client, "sales", page_size=1000)[0])
    response = httpx.post(
        fresh_lightspeed.base_url + "/_simulator/corrupt", json={"entity": "sales", "count": 3}
    )
    ids = response.json()["corrupted"]
    assert len(ids) == 3
    served, _ = walk(fresh_lightspeed_client, "sales", after=mark)
    assert len(served) == 3
    assert "id" not in served[0]
    assert "outlet_id" not in served[1]
    assert isinstance(served[2]["total_price"], str)
    after = simulator.truth()["lightspeed"]
    assert after["malformed"]["sales"] == sorted(ids)
    closed = [
        s
        for s in simulator.apis["lightspeed"].state.sales.values()
        if s.id in ids and s.status == "CLOSED" and s.deleted_at is None
    ]
    assert sum(d["count"] for d in after["daily"]) == sum(
        d["count"] for d in before["daily"]
    ) - len(closed)
    products = simulator.corrupt("lightspeed", "products", 2)
    assert simulator.truth()["lightspeed"]["malformed"]["products"] == sorted(products)
    assert (
        httpx.post(
            fresh_lightspeed.base_url + "/_simulator/corrupt", json={"entity": "taxes"}
        ).status_code
        == 400
    )


def test_cli_serves_both_apis() -> None:
    command = [
        sys.executable,
        "-c",
        RUN_CLI,
        "simulator",
        "--port",
        "0",
        "--seed",
        "2",
        "--no-square",
    ]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    try:
        assert process.stdout is not None
        banner = [process.stdout.readline().strip() for _ in range(3)]
        assert banner[0] == "Settings for possync (paste into .env or export):"
        assert banner[1].startswith("POSSYNC_LIGHTSPEED_URL=http://127.0.0.1:")
        assert banner[2] == "POSSYNC_LIGHTSPEED_TOKEN=possync-demo-token"
        base = banner[1].split("=", 1)[1]
        response = httpx.get(
            base + "/outlets", headers={"Authorization": "Bearer possync-demo-token"}
        )
        assert response.status_code == 200 and response.json()["data"]
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.mark.parametrize("args", [["--scale", "huge"], ["--faults", "boom=1"]])
def test_cli_refuses_bad_options(args: list[str]) -> None:
    result = subprocess.run(
        [sys.executable, "-c", RUN_CLI, "simulator", "--port", "0", *args],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "Invalid value" in result.stderr
