"""API-level faults decided by the Square store: expired cursors and short pages."""

from __future__ import annotations

from typing import Any

import httpx

from possync.simulator import FaultConfig, RunningSimulator
from tests.simulator.square.square_support import chunks, location_ids, walk


def test_expired_cursor_is_squares_invalid_cursor(
    fresh_square: RunningSimulator, fresh_sq: httpx.Client
) -> None:
    body = {"location_ids": location_ids(fresh_sq)[:10], "limit": 100}
    first = fresh_sq.post("/v2/orders/search", json=body).json()
    fresh_square.simulator.set_faults(FaultConfig(expired_cursor_rate=1.0))
    fresh_start = fresh_sq.post("/v2/orders/search", json=body)
    expired = fresh_sq.post("/v2/orders/search", json={**body, "cursor": first["cursor"]})
    catalog = fresh_sq.get("/v2/catalog/list")
    catalog_next = fresh_sq.get("/v2/catalog/list", params={"cursor": catalog.json()["cursor"]})
    assert fresh_start.status_code == 200, "a request without a cursor cannot expire"
    assert expired.status_code == 400
    detail = "The pagination cursor included in the request is invalid or has expired."
    assert expired.json() == {
        "errors": [
            {
                "category": "INVALID_REQUEST_ERROR",
                "code": "INVALID_CURSOR",
                "detail": detail,
                "field": "cursor",
            }
        ]
    }
    assert catalog_next.status_code == 400
    assert fresh_square.simulator.faults.snapshot()["injected"]["expired_cursor"] == 2
    fresh_square.simulator.set_faults(FaultConfig())
    resumed = fresh_sq.post("/v2/orders/search", json={**body, "cursor": first["cursor"]})
    assert resumed.status_code == 200, "the same cursor works once the fault is gone"


def test_short_pages_still_carry_a_cursor_and_lose_nothing(
    fresh_square: RunningSimulator, fresh_sq: httpx.Client
) -> None:
    ids = location_ids(fresh_sq)
    expected: set[str] = set()
    for chunk in chunks(ids):
        orders, _ = walk(
            fresh_sq,
            "POST",
            "/v2/orders/search",
            "orders",
            body={"location_ids": chunk, "limit": 1000},
        )
        expected |= {o["id"] for o in orders}
    fresh_square.simulator.set_faults(FaultConfig(short_page_rate=1.0, seed=7))
    seen: list[str] = []
    pages: list[dict[str, Any]] = []
    for chunk in chunks(ids):
        orders, chunk_pages = walk(
            fresh_sq,
            "POST",
            "/v2/orders/search",
            "orders",
            body={"location_ids": chunk, "limit": 200},
        )
        seen += [o["id"] for o in orders]
        pages += chunk_pages
    assert len(seen) == len(set(seen)) and set(seen) == expected
    with_cursor = [p for p in pages if "cursor" in p]
    assert with_cursor and all(len(p.get("orders", [])) < 200 for p in with_cursor)
    customers, customer_pages = walk(
        fresh_sq, "GET", "/v2/customers", "customers", params={"limit": 4}
    )
    assert len(customer_pages) > len(customers) // 3
    empty = [p for p in customer_pages[:-1] if "customers" not in p]
    assert empty and all("cursor" in p for p in empty), "even an empty page carries a cursor"
    cursors = [p["cursor"] for p in customer_pages if "cursor" in p]
    assert len(cursors) == len(set(cursors)), "no cursor repeats, even after an empty page"
    fresh_square.simulator.set_faults(FaultConfig())
    assert {c["id"] for c in customers} == {
        c["id"] for c in walk(fresh_sq, "GET", "/v2/customers", "customers")[0]
    }


def test_corrupted_records_are_reserved_malformed(
    fresh_square: RunningSimulator, fresh_sq: httpx.Client
) -> None:
    sim = fresh_square.simulator
    daily_before = {(d["location_id"], d["date"]): d for d in sim.truth()["square"]["daily"]}
    now = sim.clock.now().strftime("%Y-%m-%dT%H:%M:%S.000Z")
    orders = sim.corrupt("square", "orders", 3)
    payments = sim.corrupt("square", "payments", 2)
    customers = sim.corrupt("square", "customers", 2)
    truth = sim.truth()["square"]
    assert truth["malformed"] == {
        "orders": sorted(orders),
        "payments": sorted(payments),
        "customers": sorted(customers),
    }
    query = {
        "filter": {"date_time_filter": {"updated_at": {"start_at": now}}},
        "sort": {"sort_field": "UPDATED_AT", "sort_order": "ASC"},
    }
    served: list[dict[str, Any]] = []
    for chunk in chunks(location_ids(fresh_sq)):
        body = {"location_ids": chunk, "query": query}
        served += walk(fresh_sq, "POST", "/v2/orders/search", "orders", body=body)[0]
    assert len(served) == 3
    assert sum("id" not in o for o in served) == 1
    assert sum("location_id" not in o for o in served) == 1
    assert sum(o.get("total_money", {}).get("amount") == "12.34" for o in served) == 1
    daily_after = {(d["location_id"], d["date"]): d for d in truth["daily"]}
    assert sum(d["count"] for d in daily_before.values()) - sum(
        d["count"] for d in daily_after.values()
    ) == len(orders), "malformed orders leave the daily totals"
    changes = sim.advance(3 * 24 * 60)["square"]
    assert changes["order_edits"] > 0 and sim.truth()["square"]["malformed"]["orders"] == sorted(
        orders
    )
