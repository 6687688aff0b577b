"""Fault injection: each transport and API fault behaves like the real failure it imitates."""

from __future__ import annotations

import socket
import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx
import pytest

from possync.simulator import FaultConfig, FaultInjector, RunningSimulator
from possync.simulator.faults import MALFORMED_BODIES
from tests.simulator.ls_support import walk


def test_error_rate_answers_lightspeed_500(
    fresh_lightspeed: RunningSimulator, fresh_lightspeed_client: httpx.Client
) -> None:
    fresh_lightspeed.simulator.set_faults(FaultConfig(error_rate=1.0))
    response = fresh_lightspeed_client.get("/sales")
    assert response.status_code == 500
    assert response.json()["error"] == "Internal Server Error"
    assert "X-RateLimit-Remaining" in response.headers
    assert fresh_lightspeed.simulator.faults.injected["error"] == 1


def test_rate_limit_burst_then_recovery(
    fresh_lightspeed: RunningSimulator, fresh_lightspeed_client: httpx.Client
) -> None:
    fresh_lightspeed.simulator.set_faults(FaultConfig(rate_limit_burst=2))
    first, second, third = (fresh_lightspeed_client.get("/outlets") for _ in range(3))
    for response in (first, second):
        assert response.status_code == 429
        assert response.json() == {
            "error": "Too Many Requests",
            "message": "Rate limiting enforced",
        }
        retry_at = parsedate_to_datetime(response.headers["Retry-After"])
        assert 0 <= (retry_at - datetime.now(UTC)).total_seconds() <= 3
    assert third.status_code == 200


def test_reset_is_a_connection_reset(
    fresh_lightspeed: RunningSimulator, fresh_lightspeed_client: httpx.Client
) -> None:
    fresh_lightspeed.simulator.set_faults(FaultConfig(reset_rate=1.0))
    started = time.monotonic()
    with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
        fresh_lightspeed_client.get("/sales")
    assert time.monotonic() - started < 2  # abrupt, not a timeout
    fresh_lightspeed.simulator.set_faults(FaultConfig())
    assert fresh_lightspeed_client.get("/sales").status_code == 200  # the client recovers


def test_truncated_body_sends_less_than_content_length(
    fresh_lightspeed: RunningSimulator, fresh_lightspeed_client: httpx.Client
) -> None:
    fresh_lightspeed.simulator.set_faults(FaultConfig(truncate_rate=1.0))
    with pytest.raises(httpx.RemoteProtocolError):
        fresh_lightspeed_client.get("/sales")
    raw = _raw_get(fresh_lightspeed, "/api/2.0/sales")
    head, _, body = raw.partition(b"\r\n\r\n")
    declared = int(
        next(
            line.split(b":")[1]
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length")
        )
    )
    assert 0 < len(body) < declared


def _raw_get(simulator: RunningSimulator, path: str) -> bytes:
    with socket.create_connection((simulator.host, simulator.port), timeout=5) as sock:
        request = (
            f"GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {simulator.token}\r\n\r\n"
        )
        sock.sendall(request.encode())
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_latency_delays_each_response(
    fresh_lightspeed: RunningSimulator, fresh_lightspeed_client: httpx.Client
) -> None:
    fresh_lightspeed.simulator.set_faults(FaultConfig(latency_ms=150))
    started = time.monotonic()
    assert fresh_lightspeed_client.get("/taxes").status_code == 200
    assert time.monotonic() - started >= 0.15


def test_short_pages_still_walk_everything(
    fresh_lightspeed: RunningSimulator, fresh_lightspeed_client: httpx.Client
) -> None:
    fresh_lightspeed.simulator.set_faults(FaultConfig(short_page_rate=1.0, seed=5))
    records, pages = walk(fresh_lightspeed_client, "customers", page_size=100, deleted="true")
    truth = fresh_lightspeed.simulator.truth()["lightspeed"]["entities"]["customers"]
    assert sorted(r["id"] for r in records) == sorted(truth["alive"] + truth["deleted"])
    assert all(len(page["data"]) <= 50 for page in pages)
    assert fresh_lightspeed.simulator.faults.injected["short_page"] == len(pages)


def test_faults_at_run_time_over_http(fresh_lightspeed: RunningSimulator) -> None:
    control = fresh_lightspeed.base_url + "/_simulator/faults"
    body = httpx.post(control, json={"error_rate": 1, "seed": 3}).json()
    assert body["config"]["error_rate"] == 1.0
    assert (
        httpx.get(
            fresh_lightspeed.lightspeed_url + "/sales",
            headers={"Authorization": f"Bearer {fresh_lightspeed.token}"},
        ).status_code
        == 500
    )
    assert httpx.get(control).json()["injected"]["error"] == 1
    assert (
        httpx.get(fresh_lightspeed.base_url + "/_simulator/truth").status_code == 200
    )  # control is never faulted
    assert httpx.post(control, json={"explode": 1}).status_code == 400
    assert httpx.post(control, json={"error_rate": 2}).status_code == 400
    httpx.post(control, json={})
    assert (
        httpx.get(
            fresh_lightspeed.lightspeed_url + "/sales",
            headers={"Authorization": f"Bearer {fresh_lightspeed.token}"},
        ).status_code
        == 200
    )


def test_fault_config_parsing() -> None:
    parsed = FaultConfig.parse("error_rate=0.1, reset_rate=0.05,latency_ms=20,rate_limit_burst=3")
    assert parsed == FaultConfig(error_rate=0.1, reset_rate=0.05, latency_ms=20, rate_limit_burst=3)
    assert FaultConfig.parse("") == FaultConfig()
    for bad in ("error_rate", "error_rate=lots", "nope=1", "error_rate=1.5", "latency_ms=-1"):
        with pytest.raises(ValueError):
            FaultConfig.parse(bad)


def test_injector_is_reproducible_and_counts() -> None:
    config = FaultConfig(error_rate=0.3, short_page_rate=0.5, seed=9)
    runs = []
    for _ in range(2):
        injector = FaultInjector(config)
        runs.append([injector.should("error") for _ in range(200)])
    assert runs[0] == runs[1]
    assert 30 < sum(runs[0]) < 90
    injector = FaultInjector(FaultConfig(rate_limit_burst=2))
    assert [injector.should("rate_limit") for _ in range(4)] == [True, True, False, False]
    assert injector.injected["rate_limit"] == 2
    with pytest.raises(ValueError):
        injector.should("meteor")


def test_malformed_answers_replace_successful_ones(fresh_lightspeed: RunningSimulator) -> None:
    """The `malformed` fault: HTTP 200 with a body that is no page, chosen by number or by
    the seeded RNG; error answers stay as they are."""
    sim = fresh_lightspeed.simulator
    headers = {"Authorization": f"Bearer {fresh_lightspeed.token}"}
    url = fresh_lightspeed.lightspeed_url
    for shape, body in enumerate(MALFORMED_BODIES, start=1):
        sim.set_faults(FaultConfig(malformed_rate=1.0, malformed_shape=shape))
        answer = httpx.get(url + "/product_categories", headers=headers)
        assert (answer.status_code, answer.json()) == (200, body)
    sim.set_faults(FaultConfig(malformed_rate=1.0, seed=3))
    bodies = [httpx.get(url + "/brands", headers=headers).json() for _ in range(30)]
    assert all(body in MALFORMED_BODIES for body in bodies) and len(set(map(str, bodies))) > 3
    assert httpx.get(url + "/brands").status_code == 401  # no token: still refused
    assert sim.faults.injected["malformed"] == len(MALFORMED_BODIES) + 30
    sim.set_faults(FaultConfig())
    for bad in ("malformed_shape=9", "malformed_shape=-1", "malformed_rate=2"):
        with pytest.raises(ValueError):
            FaultConfig.parse(bad)
