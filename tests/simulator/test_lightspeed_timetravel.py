"""Time travel on the Lightspeed store: changes arrive as new versions, an incremental walk
catches up exactly, and the same seed gives the same bytes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx

from possync.simulator import RunningSimulator, Simulator, SimulatorConfig
from tests.simulator.ls_support import LIST_ENDPOINTS, walk

CHANGING = ("products", "customers", "inventory", "sales")


def _params(endpoint: str) -> dict[str, str]:
    return {"deleted": "true"} if LIST_ENDPOINTS.get(endpoint) else {}


def _snapshot(client: httpx.Client, endpoint: str) -> dict[str, dict[str, Any]]:
    records, _ = walk(client, endpoint, page_size=1000, **_params(endpoint))
    return {r["id"]: r for r in records}


def test_incremental_walk_catches_up_exactly(
    fresh_lightspeed: RunningSimulator, fresh_lightspeed_client: httpx.Client
) -> None:
    client = fresh_lightspeed_client
    before = {e: _snapshot(client, e) for e in CHANGING}
    marks = {e: max(r["version"] for r in before[e].values()) for e in CHANGING}
    old_clock = fresh_lightspeed.simulator.clock.now()

    changes = fresh_lightspeed.simulator.advance(24 * 60)["lightspeed"]

    assert changes["new_sales"] >= 200 and changes["voids"] > 0 and changes["late_sales"] > 0
    assert changes["price_changes"] > 0 and changes["deleted_products"] > 0
    assert changes["inventory_changes"] > 0 and changes["deleted_customers"] > 0
    for endpoint in CHANGING:
        changed, _ = walk(
            client, endpoint, page_size=300, after=marks[endpoint], **_params(endpoint)
        )
        assert changed and all(r["version"] > marks[endpoint] for r in changed)
        merged = dict(before[endpoint])
        merged.update({r["id"]: r for r in changed})  # upsert by id, newest version wins
        assert merged == _snapshot(client, endpoint)

    sales = _snapshot(client, "sales")
    new_sales = [s for s in sales.values() if s["version"] > marks["sales"]]
    voided = [s for s in new_sales if s["status"] == "VOIDED" and s["id"] in before["sales"]]
    assert voided and all(p["deleted_at"] for s in voided for p in s["payments"])
    late = [
        s
        for s in new_sales
        if s["id"] not in before["sales"] and datetime.fromisoformat(s["sale_date"]) < old_clock
    ]
    assert late and all(s["created_at"] > s["sale_date"] for s in late)
    deleted_products = [
        p
        for p in _snapshot(client, "products").values()
        if p["version"] > marks["products"] and p["deleted_at"]
    ]
    assert deleted_products


def test_truth_follows_time_travel(fresh_lightspeed: RunningSimulator) -> None:
    simulator = fresh_lightspeed.simulator
    before = simulator.truth()["lightspeed"]
    assert simulator.advance(0)["lightspeed"]["new_sales"] == 0
    changes = simulator.advance(180)["lightspeed"]
    after = simulator.truth()["lightspeed"]
    assert after["clock"] == "2026-11-01T15:00:00+00:00"
    new_ids = set(after["entities"]["sales"]["alive"]) - set(before["entities"]["sales"]["alive"])
    assert len(new_ids) == changes["new_sales"] + changes["late_sales"] + changes["returns"]
    assert sum(d["count"] for d in after["daily"]) != sum(d["count"] for d in before["daily"])


def test_advance_over_http(fresh_lightspeed: RunningSimulator) -> None:
    url = fresh_lightspeed.base_url + "/_simulator/advance"
    body = httpx.post(url, json={"minutes": 30}).json()
    assert body["clock"] == "2026-11-01T12:30:00+00:00"
    assert body["lightspeed"]["new_sales"] >= 1
    assert httpx.post(url, json={"minutes": "soon"}).status_code == 400
    assert httpx.post(url, json={"minutes": -5}).status_code == 400
    assert (
        httpx.get(fresh_lightspeed.base_url + "/_simulator/truth").json()["lightspeed"]["clock"]
        == body["clock"]
    )


def _all_bytes(simulator: Simulator) -> list[bytes]:
    client = httpx.Client(
        transport=httpx.WSGITransport(app=simulator), base_url="http://sim/api/2.0"
    )
    headers = {"Authorization": f"Bearer {simulator.config.token}"}
    bodies = []
    with client:
        for endpoint in [*LIST_ENDPOINTS, "product_categories"]:
            params = {"page_size": 100_000, **_params(endpoint)}
            bodies.append(client.get(f"/{endpoint}", params=params, headers=headers).content)
    return bodies


def test_same_seed_same_bytes() -> None:
    config = SimulatorConfig(seed=11, scale="small", square=False)
    first, second = Simulator(config), Simulator(config)
    assert _all_bytes(first) == _all_bytes(second)
    first.advance(600)
    second.advance(600)
    assert _all_bytes(first) == _all_bytes(second)
    assert first.truth() == second.truth()
    other = Simulator(SimulatorConfig(seed=12, scale="small", square=False))
    assert _all_bytes(other) != _all_bytes(first)
