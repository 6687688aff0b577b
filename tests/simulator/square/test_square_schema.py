"""Every response of every endpoint the sync uses validates against Square's OpenAPI schema.

Validation is stricter than the spec: unknown properties are errors too (see square_support).
Orders are checked by kind (sale, tab, canceled, return, offline, edited, split tender, …)
rather than all 2,000, to keep the suite fast.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from possync.simulator import FaultConfig, RunningSimulator
from tests.simulator.square.square_support import (
    CATALOG_TYPES,
    chunks,
    location_ids,
    schema_errors,
    square_client,
    walk,
)


def check(method: str, path: str, body: Any) -> None:
    errors = schema_errors(method, path, body)
    assert errors == [], errors[:5]


def order_kinds(orders: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Orders grouped by the shapes they take (an order may be in several groups)."""
    kinds: dict[str, list[dict[str, Any]]] = {}
    for order in orders:
        tenders = order.get("tenders", [])
        for kind, present in (
            ("return", "returns" in order),
            ("open", order["state"] == "OPEN"),
            ("canceled", order["state"] == "CANCELED"),
            ("no_version", "version" not in order),
            ("discount", "discounts" in order),
            ("tip", order.get("total_tip_money", {}).get("amount", 0) > 0),
            ("split", len(tenders) > 1),
            ("cash", any(t["type"] == "CASH" for t in tenders)),
            ("edited", "ticket_name" in order or "metadata" in order),
            ("customer", "customer_id" in order),
            ("late", order["updated_at"][:10] != order["created_at"][:10]),
        ):
            if present:
                kinds.setdefault(kind, []).append(order)
    return kinds


def test_orders_of_every_kind_validate(sq: httpx.Client) -> None:
    chunk = location_ids(sq)[:10]
    body = {"location_ids": chunk, "limit": 1000}
    orders, pages = walk(sq, "POST", "/v2/orders/search", "orders", body=body)
    kinds = order_kinds(orders)
    assert set(kinds) >= {"return", "canceled", "no_version", "discount", "tip", "split", "cash"}
    assert {"edited", "customer", "late"} <= set(kinds)
    sample = [order for group in kinds.values() for order in group[:15]]
    check("POST", "/v2/orders/search", {"orders": sample, "cursor": "x"})
    check("POST", "/v2/orders/search", {k: v for k, v in pages[0].items() if k != "orders"})
    entries = sq.post("/v2/orders/search", json={**body, "return_entries": True, "limit": 500})
    check("POST", "/v2/orders/search", entries.json())


def test_catalog_responses_validate(sq: httpx.Client) -> None:
    _, pages = walk(
        sq,
        "POST",
        "/v2/catalog/search",
        "objects",
        body={"object_types": CATALOG_TYPES, "include_deleted_objects": True, "limit": 1000},
    )
    for page in pages:
        check("POST", "/v2/catalog/search", page)
    related = sq.post(
        "/v2/catalog/search", json={"object_types": ["ITEM"], "include_related_objects": True}
    )
    assert related.json()["related_objects"]
    check("POST", "/v2/catalog/search", related.json())
    _, list_pages = walk(sq, "GET", "/v2/catalog/list", "objects", params={"types": "ITEM,TAX"})
    for page in list_pages[:3] + list_pages[-1:]:
        check("GET", "/v2/catalog/list", page)


def test_other_endpoints_validate(sq: httpx.Client) -> None:
    check("GET", "/v2/locations", sq.get("/v2/locations").json())
    counts = sq.post("/v2/inventory/counts/batch-retrieve", json={"limit": 1000})
    check("POST", "/v2/inventory/counts/batch-retrieve", counts.json())
    _, customer_pages = walk(sq, "GET", "/v2/customers", "customers", params={"count": "true"})
    for page in customer_pages:
        check("GET", "/v2/customers", page)
    search = sq.post(
        "/v2/customers/search",
        json={
            "limit": 100,
            "count": True,
            "query": {
                "filter": {"updated_at": {"start_at": "2026-09-01T00:00:00Z"}},
                "sort": {"field": "CREATED_AT", "order": "ASC"},
            },
        },
    )
    check("POST", "/v2/customers/search", search.json())
    for location_id in location_ids(sq)[:3]:
        payments = sq.get("/v2/payments", params={"location_id": location_id, "limit": 100})
        check("GET", "/v2/payments", payments.json())
    _, refund_pages = walk(sq, "GET", "/v2/refunds", "refunds")
    for page in refund_pages:
        check("GET", "/v2/refunds", page)


@pytest.mark.parametrize(
    ("method", "path", "payload"),
    [
        ("POST", "/v2/orders/search", {"location_ids": [f"L{i}" for i in range(11)]}),
        ("POST", "/v2/orders/search", {"location_ids": []}),
        ("POST", "/v2/catalog/search", {"cursor": "not-a-cursor"}),
        ("POST", "/v2/inventory/counts/batch-retrieve", {"limit": 0}),
        ("POST", "/v2/customers/search", {"limit": 101}),
        ("GET", "/v2/customers", {"limit": "0"}),
        ("GET", "/v2/payments", {"begin_time": "yesterday"}),
        ("GET", "/v2/refunds", {"status": "DONE"}),
        ("GET", "/v2/catalog/list", {"types": "ITEM,BANANA"}),
    ],
)
def test_error_envelopes_validate(
    sq: httpx.Client, method: str, path: str, payload: dict[str, Any]
) -> None:
    response = sq.get(path, params=payload) if method == "GET" else sq.post(path, json=payload)
    assert response.status_code == 400
    body = response.json()
    check(method, path, body)
    assert body["errors"][0]["category"] == "INVALID_REQUEST_ERROR"


def test_transport_fault_envelopes_validate(fresh_square: RunningSimulator) -> None:
    with square_client(fresh_square) as client:
        fresh_square.simulator.set_faults(FaultConfig(rate_limit_burst=2))
        limited = [client.get("/v2/locations") for _ in range(2)]
        fresh_square.simulator.set_faults(FaultConfig(error_rate=1.0))
        failed = client.post("/v2/orders/search", json={"location_ids": ["x"]})
        fresh_square.simulator.set_faults(FaultConfig())
        unauthorized = httpx.get(fresh_square.square_url + "/v2/locations")
        missing = client.get("/v2/no-such-endpoint")
    assert [r.status_code for r in limited] == [429, 429]
    assert [r.json()["errors"][0]["code"] for r in limited] == ["RATE_LIMITED"] * 2
    assert ["Retry-After" in r.headers for r in limited] == [True, False]
    assert limited[0].json()["errors"][0]["category"] == "RATE_LIMIT_ERROR"
    assert failed.status_code == 500
    assert failed.json()["errors"][0]["category"] == "API_ERROR"
    assert unauthorized.status_code == 401
    assert unauthorized.json()["errors"][0]["code"] == "UNAUTHORIZED"
    assert missing.status_code == 404
    assert missing.json()["errors"][0]["code"] == "NOT_FOUND"
    for response in (*limited, unauthorized):
        check("GET", "/v2/locations", response.json())
    check("POST", "/v2/orders/search", failed.json())


def test_chunked_full_walk_pages_validate(sq: httpx.Client) -> None:
    """Every page's envelope (cursor, keys) validates; the orders themselves are sampled."""
    for chunk in chunks(location_ids(sq)):
        _, pages = walk(
            sq,
            "POST",
            "/v2/orders/search",
            "orders",
            body={"location_ids": chunk, "limit": 1000},
        )
        for page in pages:
            check("POST", "/v2/orders/search", {**page, "orders": page.get("orders", [])[:25]})
