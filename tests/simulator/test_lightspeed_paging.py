"""Lightspeed list semantics: whole-store walks, `after`/`before`/`page_size`/`deleted`,
product categories paged by id, single records, /search, and the served data agreeing with
the simulator's ground truth."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from possync.simulator import RunningSimulator
from tests.simulator.ls_support import LIST_ENDPOINTS, cents, walk


@pytest.fixture(scope="module")
def truth(simulator: RunningSimulator) -> dict[str, Any]:
    result: dict[str, Any] = simulator.simulator.truth()["lightspeed"]
    return result


@pytest.mark.parametrize("page_size", [1, 7, 100, 5000])
@pytest.mark.parametrize("endpoint", sorted(LIST_ENDPOINTS))
def test_walk_returns_every_record_once(
    ls_client: httpx.Client, truth: dict[str, Any], endpoint: str, page_size: int
) -> None:
    if page_size == 1 and endpoint in ("sales", "inventory", "customers", "products"):
        page_size = 3  # keep the walk short; still many pages
    params = {"deleted": "true"} if LIST_ENDPOINTS[endpoint] else {}
    records, pages = walk(ls_client, endpoint, page_size=page_size, **params)
    ids = [r["id"] for r in records]
    expected = truth["entities"][endpoint]
    assert len(ids) == len(set(ids))
    assert sorted(ids) == sorted(expected["alive"] + expected["deleted"])
    assert all(len(page["data"]) <= page_size for page in pages)
    assert len(pages) == -(-len(ids) // page_size) + 1  # full pages, then one empty page


@pytest.mark.parametrize("endpoint", [e for e, has in LIST_ENDPOINTS.items() if has])
def test_deleted_records_only_with_deleted_true(
    ls_client: httpx.Client, truth: dict[str, Any], endpoint: str
) -> None:
    records, _ = walk(ls_client, endpoint, page_size=500)
    assert sorted(r["id"] for r in records) == truth["entities"][endpoint]["alive"]
    assert all(r["deleted_at"] is None for r in records)


def test_sales_include_deleted_without_a_parameter(
    ls_client: httpx.Client, truth: dict[str, Any]
) -> None:
    records, _ = walk(ls_client, "sales", page_size=1000)
    deleted = sorted(r["id"] for r in records if r["deleted_at"] is not None)
    assert deleted == truth["entities"]["sales"]["deleted"] and deleted


def test_default_page_size_after_exclusive_and_before(ls_client: httpx.Client) -> None:
    first = ls_client.get("/customers").json()
    assert len(first["data"]) == 100
    versions = [c["version"] for c in first["data"]]
    middle = versions[49]
    after = ls_client.get("/customers", params={"after": middle}).json()
    assert after["data"][0]["version"] == versions[50]  # `after` is exclusive
    below = ls_client.get("/customers", params={"before": middle, "page_size": 1000}).json()
    assert [c["version"] for c in below["data"]] == versions[:49]  # `before` is exclusive
    end = ls_client.get("/customers", params={"after": 10**15}).json()
    assert end == {"data": [], "version": {"min": None, "max": None}}


@pytest.mark.parametrize(
    "params", [{"page_size": "0"}, {"page_size": "many"}, {"after": "-1"}, {"before": "x"}]
)
def test_bad_parameters_are_refused(ls_client: httpx.Client, params: dict[str, str]) -> None:
    response = ls_client.get("/sales", params=params)
    assert response.status_code == 400
    assert response.json()["error"] == "Bad Request"


def test_unknown_paths_and_ids_are_404(ls_client: httpx.Client) -> None:
    for path in ("/sales/0000", "/nothing", "/products/x/y"):
        response = ls_client.get(path)
        assert response.status_code == 404
        assert "error" in response.json()
        assert response.headers["X-RateLimit-Limit"] == str(300 * 4 + 50)


def test_product_categories_page_by_id_in_path_order(ls_client: httpx.Client) -> None:
    everything = ls_client.get("/product_categories").json()
    categories = everything["data"]["categories"]
    assert everything["page_info"]["has_next"] is False
    paths = [[step["name"] for step in c["category_path"]] for c in categories]
    assert paths == sorted(paths)
    walked: list[str] = []
    after = ""
    while True:
        page = ls_client.get("/product_categories", params={"page_size": 4, "after": after}).json()
        walked.extend(c["id"] for c in page["data"]["categories"])
        if not page["page_info"]["has_next"]:
            break
        after = page["page_info"]["last_seen"]
    assert walked == [c["id"] for c in categories]
    roots = ls_client.get("/product_categories", params={"parent": "none"}).json()
    assert {c["id"] for c in roots["data"]["categories"]} == {
        c["id"] for c in categories if len(c["category_path"]) == 1
    }


def test_sale_totals_follow_from_lines(ls_client: httpx.Client) -> None:
    sales, _ = walk(ls_client, "sales", page_size=1000)
    statuses = {s["status"] for s in sales}
    assert {"CLOSED", "ONACCOUNT", "LAYBY", "SAVED", "VOIDED", "LAYBY_CLOSED"} <= statuses
    returns = [s for s in sales if s["return_for"]]
    assert returns and all(
        ln["quantity"] < 0 and ln["is_return"] for s in returns for ln in s["line_items"]
    )
    assert any(ln["product_id"] for s in sales for ln in s["line_items"] if ln["price"] < 0)
    for sale in sales:
        lines = sale["line_items"]
        assert sale["total_price"] == cents(sum((ln["price_total"] for ln in lines), Decimal(0)))
        assert sale["total_tax"] == cents(sum((ln["tax_total"] for ln in lines), Decimal(0)))
        for line in lines:
            assert line["price_total"] == line["price"] * line["quantity"]
            assert line["discount_total"] == line["discount"] * line["quantity"]
        paid = sum((p["amount"] for p in sale["payments"] if p["deleted_at"] is None), Decimal(0))
        if sale["status"].endswith("CLOSED") and sale["deleted_at"] is None:
            assert paid == sale["total_price"] + sale["total_tax"], sale["id"]
        if sale["status"] in ("SAVED", "VOIDED"):
            assert paid == 0


def test_served_sales_add_up_to_truth_daily(ls_client: httpx.Client, truth: dict[str, Any]) -> None:
    outlets, _ = walk(ls_client, "outlets")
    zones = {o["id"]: ZoneInfo(o["time_zone"]) for o in outlets}
    assert len(set(zones.values())) == len(zones)
    sales, _ = walk(ls_client, "sales", page_size=1000)
    daily: dict[tuple[str, str], list[Any]] = defaultdict(
        lambda: [0, Decimal(0), Decimal(0), Decimal(0)]
    )
    business_dates_differ = False
    for sale in sales:
        if sale["status"] != "CLOSED" or sale["deleted_at"] is not None:
            continue
        moment = datetime.fromisoformat(sale["sale_date"])
        local = moment.astimezone(zones[sale["outlet_id"]]).date()
        business_dates_differ |= local != moment.date()
        row = daily[(sale["outlet_id"], local.isoformat())]
        row[0] += 1
        row[1] += sale["total_price"]
        row[2] += sale["total_tax"]
        row[3] += sum((ln["discount_total"] for ln in sale["line_items"]), Decimal(0))
    assert business_dates_differ
    expected = {
        (d["outlet_id"], d["date"]): [
            d["count"],
            Decimal(d["total_price"]),
            Decimal(d["total_tax"]),
            Decimal(d["total_discount"]),
        ]
        for d in truth["daily"]
    }
    assert {k: [v[0], *map(cents, v[1:])] for k, v in daily.items()} == expected


def test_search_sales_by_business_day(ls_client: httpx.Client, truth: dict[str, Any]) -> None:
    outlets = {o["id"]: o for o in walk(ls_client, "outlets")[0]}
    for day in truth["daily"][-4:]:
        zone = ZoneInfo(outlets[day["outlet_id"]]["time_zone"])
        start = datetime.fromisoformat(day["date"]).replace(tzinfo=zone)
        end = start + timedelta(days=1)
        found: list[dict[str, Any]] = []
        offset = 0
        while True:
            params = {
                "type": "sales",
                "outlet_id": day["outlet_id"],
                "status": "CLOSED",
                "date_from": start.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "date_to": end.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "offset": offset,
                "page_size": 5,
            }
            page = ls_client.get("/search", params=params).json(parse_float=Decimal)["data"]
            found.extend(page)
            if len(page) < 5:
                break
            offset += 5
        assert len(found) == day["count"]
        assert str(sum((s["total_price"] for s in found), Decimal("0.00"))) == day["total_price"]
        assert len({s["id"] for s in found}) == len(found)


def test_search_page_size_is_capped_at_1000(ls_client: httpx.Client) -> None:
    body = ls_client.get("/search", params={"type": "sales", "page_size": 5000}).json()
    assert len(body["data"]) == 1000
    deleted = ls_client.get(
        "/search", params={"type": "sales", "deleted": "true", "page_size": 1000, "offset": 1000}
    ).json()
    plain = ls_client.get(
        "/search", params={"type": "sales", "page_size": 1000, "offset": 1000}
    ).json()
    assert len(deleted["data"]) > len(plain["data"])


def test_store_shape(ls_client: httpx.Client) -> None:
    products, _ = walk(ls_client, "products", page_size=1000, deleted="true")
    assert any(p["sku"] == "vend-discount" and p["source"] == "SYSTEM" for p in products)
    parents = {p["id"] for p in products if p["has_variants"]}
    children = [p for p in products if p["variant_parent_id"]]
    assert parents and {c["variant_parent_id"] for c in children} == parents
    customers, _ = walk(ls_client, "customers", page_size=1000)
    walk_ins = [c for c in customers if c["customer_code"].startswith("UNNAMED-")]
    assert walk_ins and all(c["first_name"] is None for c in walk_ins)
    inventory, _ = walk(ls_client, "inventory", page_size=1000)
    assert any(i["inventory_level"] < 0 for i in inventory)
    sales, _ = walk(ls_client, "sales", page_size=1000)
    assert min(s["version"] for s in sales) > 4 * 10**10
    assert any(s["created_at"] > s["sale_date"] for s in sales)  # uploaded late
    assert {s["customer_id"] for s in sales} & {c["id"] for c in walk_ins}
