"""Walking every endpoint returns every record exactly once, and the API agrees with the truth."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from possync.simulator import RunningSimulator
from tests.simulator.square.square_support import (
    CATALOG_TYPES,
    chunks,
    entity_ids,
    location_ids,
    snapshot,
    walk,
)


def assert_once(records: list[dict[str, Any]], key: str = "id") -> set[str]:
    """No record twice; the set of ids."""
    counts = Counter(record[key] for record in records)
    assert [i for i, n in counts.items() if n > 1] == []
    return set(counts)


def test_small_has_twelve_locations_with_time_zones(sq: httpx.Client) -> None:
    locations = sq.get("/v2/locations").json()["locations"]
    assert len(locations) == 12
    assert [loc["name"] for loc in locations] == sorted(loc["name"] for loc in locations)
    assert all(ZoneInfo(loc["timezone"]) for loc in locations)
    assert len({loc["timezone"] for loc in locations}) >= 6
    assert Counter(loc["status"] for loc in locations) == {"ACTIVE": 11, "INACTIVE": 1}


def test_api_matches_truth(square_sim: RunningSimulator, sq: httpx.Client) -> None:
    snap = snapshot(sq)
    truth = square_sim.simulator.truth()["square"]
    expected = {
        entity: {"alive": sorted(ids["alive"]), "deleted": sorted(ids["deleted"])}
        for entity, ids in truth["entities"].items()
    }
    assert entity_ids(snap) == expected
    assert len(snap["orders"]) > 1_900
    assert len(snap["customers"]) > 250
    assert 150 <= len(snap["catalog_items"]) <= 200
    assert truth["entities"]["catalog_items"]["deleted"], "some items are deleted"
    assert daily_from_api(snap) == truth["daily"]


def daily_from_api(snap: dict[str, dict[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    """COMPLETED orders per location and local date of created_at, summed from the API."""
    days: dict[tuple[str, str], list[int]] = {}
    for order in snap["orders"].values():
        if order["state"] != "COMPLETED":
            continue
        zone = ZoneInfo(snap["locations"][order["location_id"]]["timezone"])
        local = datetime.fromisoformat(order["created_at"]).astimezone(zone).date().isoformat()
        totals = days.setdefault((order["location_id"], local), [0, 0, 0, 0])
        totals[0] += 1
        totals[1] += order["total_money"]["amount"]
        totals[2] += order["total_tax_money"]["amount"]
        totals[3] += order["total_discount_money"]["amount"]
    return [
        {
            "location_id": location_id,
            "date": day,
            "count": t[0],
            "total_money": t[1],
            "total_tax_money": t[2],
            "total_discount_money": t[3],
        }
        for (location_id, day), t in sorted(days.items())
    ]


@pytest.mark.parametrize(
    ("sort", "date_filter", "limit"),
    [
        (None, None, 97),
        ({"sort_field": "CREATED_AT", "sort_order": "ASC"}, None, 250),
        ({"sort_field": "UPDATED_AT", "sort_order": "ASC"}, "updated_at", 1000),
        ({"sort_field": "UPDATED_AT", "sort_order": "DESC"}, "updated_at", 333),
        ({"sort_field": "CLOSED_AT", "sort_order": "ASC"}, "closed_at", 500),
    ],
)
def test_order_walks_return_each_order_once(
    sq: httpx.Client,
    orders_by_id: dict[str, dict[str, Any]],
    sort: dict[str, str] | None,
    date_filter: str | None,
    limit: int,
) -> None:
    expected = set(orders_by_id)
    seen: list[dict[str, Any]] = []
    for chunk in chunks(location_ids(sq)):
        query: dict[str, Any] = {}
        if sort:
            query["sort"] = sort
        if date_filter:
            time_range = {"start_at": "2020-01-01T00:00:00Z"}
            query["filter"] = {"date_time_filter": {date_filter: time_range}}
        body = {"location_ids": chunk, "limit": limit, "query": query}
        orders, pages = walk(sq, "POST", "/v2/orders/search", "orders", body=body)
        field = {"CLOSED_AT": "closed_at", "UPDATED_AT": "updated_at"}.get(
            (sort or {}).get("sort_field", ""), "created_at"
        )
        stamps = [datetime.fromisoformat(o[field]) for o in orders]
        descending = (sort or {}).get("sort_order", "DESC") == "DESC"
        assert stamps == sorted(stamps, reverse=descending)
        assert all(len(page.get("orders", [])) <= limit for page in pages)
        seen += orders
    ids = assert_once(seen)
    if date_filter == "closed_at":
        assert ids == {i for i, o in orders_by_id.items() if "closed_at" in o}
    else:
        assert ids == expected


@pytest.fixture(scope="module")
def orders_by_id(sq: httpx.Client) -> dict[str, dict[str, Any]]:
    """Every order, read by the default query."""
    orders: dict[str, dict[str, Any]] = {}
    for chunk in chunks(location_ids(sq)):
        body = {"location_ids": chunk, "limit": 1000}
        orders.update(
            {o["id"]: o for o in walk(sq, "POST", "/v2/orders/search", "orders", body=body)[0]}
        )
    return orders


def test_return_entries_walk(sq: httpx.Client, orders_by_id: dict[str, dict[str, Any]]) -> None:
    entries: list[dict[str, Any]] = []
    for chunk in chunks(location_ids(sq)):
        body = {"location_ids": chunk, "limit": 400, "return_entries": True}
        entries += walk(sq, "POST", "/v2/orders/search", "order_entries", body=body)[0]
    orders = orders_by_id
    assert assert_once(entries, "order_id") == set(orders)
    for entry in entries:
        order = orders[entry["order_id"]]
        assert entry["location_id"] == order["location_id"]
        assert entry.get("version") == order.get("version")
    assert any("version" not in e for e in entries), "POS orders carry no version"


def test_catalog_walks(sq: httpx.Client) -> None:
    listed, pages = walk(
        sq, "GET", "/v2/catalog/list", "objects", params={"types": "item,CATEGORY"}
    )
    assert all(len(page.get("objects", [])) <= 100 for page in pages)
    assert len(pages) >= 2
    searched, _ = walk(
        sq,
        "POST",
        "/v2/catalog/search",
        "objects",
        body={"object_types": ["ITEM", "CATEGORY"], "include_deleted_objects": True, "limit": 37},
    )
    listed_ids, searched_ids = assert_once(listed), assert_once(searched)
    deleted = {o["id"] for o in searched if o["is_deleted"]}
    assert deleted and listed_ids == searched_ids - deleted
    assert {o["type"] for o in listed} == {"ITEM", "CATEGORY"}
    default_types, _ = walk(sq, "GET", "/v2/catalog/list", "objects")
    assert {o["type"] for o in default_types} == {"ITEM", "CATEGORY", "TAX"}, "variations nest"


def test_inventory_customers_payments_refunds_walks(sq: httpx.Client) -> None:
    counts, _ = walk(
        sq, "POST", "/v2/inventory/counts/batch-retrieve", "counts", body={"limit": 333}
    )
    keys = [f"{c['catalog_object_id']}:{c['location_id']}:{c['state']}" for c in counts]
    assert len(keys) == len(set(keys)) > 1_000
    stamps = [datetime.fromisoformat(c["calculated_at"]) for c in counts]
    assert stamps == sorted(stamps, reverse=True), "newest calculated_at first"

    by_name, _ = walk(sq, "GET", "/v2/customers", "customers", params={"limit": 17})
    by_created, _ = walk(
        sq,
        "GET",
        "/v2/customers",
        "customers",
        params={"limit": 100, "sort_field": "CREATED_AT", "sort_order": "DESC"},
    )
    names = [(c["given_name"], c["family_name"], c["id"]) for c in by_name]
    assert names == sorted(names)
    assert assert_once(by_name) == assert_once(by_created)

    payments: list[dict[str, Any]] = []
    for location_id in location_ids(sq):
        payments += walk(
            sq, "GET", "/v2/payments", "payments", params={"location_id": location_id, "limit": 41}
        )[0]
    assert len(assert_once(payments)) > 1_900
    refunds, _ = walk(sq, "GET", "/v2/refunds", "refunds", params={"limit": 7, "sort_order": "ASC"})
    assert len(assert_once(refunds)) > 20
    assert sum(len(p.get("refund_ids", [])) for p in payments) == len(refunds)


def test_catalog_search_by_type_includes_nested_variations(sq: httpx.Client) -> None:
    objects, _ = walk(
        sq,
        "POST",
        "/v2/catalog/search",
        "objects",
        body={"object_types": CATALOG_TYPES, "include_deleted_objects": True},
    )
    items = {o["id"]: o for o in objects if o["type"] == "ITEM"}
    variations = {o["id"]: o for o in objects if o["type"] == "ITEM_VARIATION"}
    for item in items.values():
        for nested in item["item_data"]["variations"]:
            assert nested["item_variation_data"]["item_id"] == item["id"]
            assert variations[nested["id"]]["version"] == nested["version"]
            if item["is_deleted"]:
                assert variations[nested["id"]]["is_deleted"] is True
