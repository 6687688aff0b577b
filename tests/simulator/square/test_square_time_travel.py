"""Time travel: new sales, edits, late offline sales, refunds, catalog churn, stock and
customer changes — each visible to an incremental read exactly as Square shows it."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx

from possync.simulator import RunningSimulator
from tests.simulator.square.square_support import (
    CATALOG_TYPES,
    all_orders,
    chunks,
    entity_ids,
    location_ids,
    schema_errors,
    snapshot,
    walk,
)
from tests.simulator.square.test_square_walks import daily_from_api


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def parse(value: str) -> datetime:
    return datetime.fromisoformat(value)


def epoch_ms(value: str) -> int:
    return round(parse(value).timestamp() * 1000)


def changed(before: dict[str, Any], after: dict[str, Any]) -> set[str]:
    return {i for i, doc in after.items() if before.get(i) != doc}


def test_advance_changes_everything_the_way_square_does(
    fresh_square: RunningSimulator, fresh_sq: httpx.Client
) -> None:
    sim = fresh_square.simulator
    before = snapshot(fresh_sq)
    watermark = sim.clock.now()
    latest_time = fresh_sq.post("/v2/catalog/search", json={"limit": 1}).json()["latest_time"]
    changes = sim.advance(3 * 24 * 60)["square"]
    for kind in (
        "new_orders", "completed_orders", "order_edits", "late_offline_orders", "refunds",
        "refunds_completed", "price_changes", "catalog_deletes", "new_items",
        "inventory_changes", "new_customers", "customer_edits",
    ):  # fmt: skip
        assert changes[kind] > 0, kind
    after = snapshot(fresh_sq)

    # Orders: an UPDATED_AT walk from the watermark returns exactly what changed.
    since = {"filter": {"date_time_filter": {"updated_at": {"start_at": iso(watermark)}}}}
    delta = all_orders(
        fresh_sq, {**since, "sort": {"sort_field": "UPDATED_AT", "sort_order": "ASC"}}
    )
    delta_ids = [o["id"] for o in delta]
    assert len(delta_ids) == len(set(delta_ids))
    assert set(delta_ids) == changed(before["orders"], after["orders"])
    new = [o for o in delta if o["id"] not in before["orders"]]
    late = [o for o in new if parse(o["created_at"]) < watermark - timedelta(minutes=30)]
    assert late, "offline sales arrive with an old created_at and a fresh updated_at"
    for order in late:
        assert parse(order["updated_at"]) >= watermark
        payment = after["payments"][order["tenders"][0]["payment_id"]]
        assert payment["is_offline_payment"] is True
    edited = [o for o in delta if o["id"] in before["orders"]]
    assert edited
    for order in edited:
        old = before["orders"][order["id"]]
        assert parse(order["updated_at"]) > parse(old["updated_at"])
        assert order["created_at"] == old["created_at"]
        if "version" in old:
            assert order["version"] > old["version"]
    returns = [o for o in new if "returns" in o]
    assert returns
    for order in returns:
        source = after["orders"][order["returns"][0]["source_order_id"]]
        refund = after["refunds"][order["refunds"][0]["id"]]
        assert refund["order_id"] == order["id"]
        assert refund["amount_money"] == order["return_amounts"]["total_money"]
        assert refund["id"] in after["payments"][refund["payment_id"]]["refund_ids"]
        assert refund["payment_id"] in {t["payment_id"] for t in source["tenders"]}
        assert order["net_amounts"]["total_money"]["amount"] < 0
    errors = schema_errors("POST", "/v2/orders/search", {"orders": delta})
    assert errors == [], errors[:5]

    # Catalog: begin_time = the stored latest_time; deletes cascade and bump versions.
    catalog_delta, pages = walk(
        fresh_sq,
        "POST",
        "/v2/catalog/search",
        "objects",
        body={
            "object_types": CATALOG_TYPES,
            "include_deleted_objects": True,
            "begin_time": latest_time,
        },
    )
    assert pages[-1]["latest_time"] > latest_time
    before_catalog = {**before["catalog_items"], **before["catalog_item_variations"]}
    after_catalog = {**after["catalog_items"], **after["catalog_item_variations"]}
    assert {o["id"] for o in catalog_delta} == changed(before_catalog, after_catalog)
    for obj in catalog_delta:
        assert obj["version"] == epoch_ms(obj["updated_at"])
        old = before_catalog.get(obj["id"])
        if old is not None:
            assert obj["version"] > old["version"]
    deleted_items = [o for o in catalog_delta if o["type"] == "ITEM" and o["is_deleted"]]
    assert deleted_items
    for item in deleted_items:
        for nested in item["item_data"]["variations"]:
            variation = after["catalog_item_variations"][nested["id"]]
            assert variation["is_deleted"] is True
            assert variation["updated_at"] <= item["updated_at"]
    listed, _ = walk(fresh_sq, "GET", "/v2/catalog/list", "objects", params={"types": "ITEM"})
    assert not {o["id"] for o in listed} & {o["id"] for o in deleted_items}
    repriced = [
        o
        for o in catalog_delta
        if o["type"] == "ITEM_VARIATION"
        and o["id"] in before_catalog
        and o["item_variation_data"]["price_money"]
        != before_catalog[o["id"]]["item_variation_data"]["price_money"]
    ]
    assert repriced
    for variation in repriced:
        parent = after["catalog_items"][variation["item_variation_data"]["item_id"]]
        assert parent["version"] >= variation["version"]

    # Customers: SearchCustomers filters on updated_at; edits bump version.
    customers, _ = walk(
        fresh_sq,
        "POST",
        "/v2/customers/search",
        "customers",
        body={
            "query": {
                "filter": {"updated_at": {"start_at": iso(watermark)}},
                "sort": {"field": "CREATED_AT", "order": "ASC"},
            }
        },
    )
    assert {c["id"] for c in customers} == changed(before["customers"], after["customers"])
    for customer in customers:
        if customer["id"] in before["customers"]:
            assert customer["version"] > before["customers"][customer["id"]]["version"]

    # Inventory: updated_after finds the moved counts.
    counts, _ = walk(
        fresh_sq,
        "POST",
        "/v2/inventory/counts/batch-retrieve",
        "counts",
        body={"updated_after": iso(watermark)},
    )
    keys = {f"{c['catalog_object_id']}:{c['location_id']}:{c['state']}" for c in counts}
    assert keys == changed(before["inventory_counts"], after["inventory_counts"])

    # Payments and refunds: updated_at filters catch refunds of old sales too.
    payments: list[dict[str, Any]] = []
    for location_id in location_ids(fresh_sq):
        payments += walk(
            fresh_sq,
            "GET",
            "/v2/payments",
            "payments",
            params={
                "location_id": location_id,
                "updated_at_begin_time": iso(watermark),
                "sort_field": "UPDATED_AT",
                "sort_order": "ASC",
            },
        )[0]
    assert {p["id"] for p in payments} == changed(before["payments"], after["payments"])
    refunds, _ = walk(
        fresh_sq,
        "GET",
        "/v2/refunds",
        "refunds",
        params={"updated_at_begin_time": iso(watermark), "sort_field": "UPDATED_AT"},
    )
    assert {r["id"] for r in refunds} == changed(before["refunds"], after["refunds"])
    assert {r["status"] for r in refunds} >= {"COMPLETED"}

    truth = sim.truth()["square"]
    assert entity_ids(after) == {
        entity: {"alive": sorted(ids["alive"]), "deleted": sorted(ids["deleted"])}
        for entity, ids in truth["entities"].items()
    }
    assert daily_from_api(after) == truth["daily"]
    assert truth["clock"] == (watermark + timedelta(days=3)).isoformat()


def test_cursor_freezes_the_end_of_the_window(
    fresh_square: RunningSimulator, fresh_sq: httpx.Client
) -> None:
    """A missing end_at means 'the time of the first request for the cursor'."""
    sim = fresh_square.simulator
    first_request = sim.clock.now()
    chunk = chunks(location_ids(fresh_sq))[0]
    body: dict[str, Any] = {
        "location_ids": chunk,
        "limit": 50,
        "query": {
            "filter": {"date_time_filter": {"updated_at": {"start_at": "2026-10-25T00:00:00Z"}}},
            "sort": {"sort_field": "UPDATED_AT", "sort_order": "ASC"},
        },
    }
    first = fresh_sq.post("/v2/orders/search", json=body).json()
    sim.advance(24 * 60)
    rest, _ = walk(
        fresh_sq, "POST", "/v2/orders/search", "orders", body={**body, "cursor": first["cursor"]}
    )
    seen = first["orders"] + rest
    assert len(seen) > 50
    assert all(parse(o["updated_at"]) <= first_request for o in seen)
    fresh, _ = walk(fresh_sq, "POST", "/v2/orders/search", "orders", body=body)
    assert any(parse(o["updated_at"]) > first_request for o in fresh)


def test_advance_is_quiet_without_time(fresh_square: RunningSimulator) -> None:
    changes = fresh_square.simulator.advance(0)["square"]
    assert set(changes.values()) == {0}
