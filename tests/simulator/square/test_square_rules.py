"""Square's request rules and response conventions — the traps a sync must survive."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from possync.simulator import RunningSimulator
from tests.simulator.square.square_support import (
    CATALOG_TYPES,
    all_orders,
    location_ids,
    walk,
)

MS_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
SECOND_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def error_of(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 400, response.text
    error: dict[str, Any] = response.json()["errors"][0]
    return error


def search(client: httpx.Client, **body: Any) -> httpx.Response:
    return client.post("/v2/orders/search", json=body)


def iso_ms(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def test_location_id_limits(sq: httpx.Client) -> None:
    ids = location_ids(sq)
    too_many = error_of(search(sq, location_ids=ids[:11]))
    assert too_many["code"] == "ARRAY_LENGTH_TOO_LONG"
    assert too_many["detail"] == "Cannot provide more than 10 location_ids."
    assert error_of(search(sq, location_ids=[]))["code"] == "ARRAY_EMPTY"
    assert error_of(search(sq, location_ids=["NOPE"]))["field"] == "location_ids"
    assert search(sq, location_ids=ids[:10]).status_code == 200


def test_sort_field_must_match_the_filtered_time(sq: httpx.Client) -> None:
    ids = location_ids(sq)[:2]
    updated = {"date_time_filter": {"updated_at": {"start_at": "2026-10-01T00:00:00Z"}}}
    unsorted = search(sq, location_ids=ids, query={"filter": updated})
    assert error_of(unsorted)["field"] == "query.sort.sort_field"
    wrong = search(
        sq, location_ids=ids, query={"filter": updated, "sort": {"sort_field": "CREATED_AT"}}
    )
    assert error_of(wrong)["code"] == "BAD_REQUEST"
    both = {"date_time_filter": {**updated["date_time_filter"], "created_at": {}}}
    both["date_time_filter"]["created_at"] = {"start_at": "2026-10-01T00:00:00Z"}
    assert search(sq, location_ids=ids, query={"filter": both}).status_code == 400
    open_closed = {
        "filter": {"state_filter": {"states": ["OPEN", "COMPLETED"]}},
        "sort": {"sort_field": "CLOSED_AT"},
    }
    assert search(sq, location_ids=ids, query=open_closed).status_code == 400
    ok = search(
        sq, location_ids=ids, query={"filter": updated, "sort": {"sort_field": "UPDATED_AT"}}
    )
    assert ok.status_code == 200


def test_orders_default_to_created_at_desc_and_500(sq: httpx.Client) -> None:
    ids = location_ids(sq)[:10]
    page = search(sq, location_ids=ids).json()
    assert len(page["orders"]) == 500 and page["cursor"]
    created = [o["created_at"] for o in page["orders"]]
    assert created == sorted(created, reverse=True)
    assert error_of(search(sq, location_ids=ids, limit=1001))["code"] == "VALUE_TOO_HIGH"
    assert error_of(search(sq, location_ids=ids, limit=0))["code"] == "VALUE_TOO_LOW"


def test_cursor_is_bound_to_its_query(sq: httpx.Client) -> None:
    ids = location_ids(sq)
    first = search(sq, location_ids=ids[:10], limit=5).json()
    other = search(sq, location_ids=ids[10:], limit=5, cursor=first["cursor"])
    assert error_of(other)["code"] == "INVALID_CURSOR"
    assert error_of(search(sq, location_ids=ids[:10], cursor="garbage"))["code"] == "INVALID_CURSOR"
    same = search(sq, location_ids=ids[:10], limit=7, cursor=first["cursor"])
    assert same.status_code == 200 and len(same.json()["orders"]) == 7


def test_time_ranges_are_inclusive(sq: httpx.Client) -> None:
    ids = location_ids(sq)[:10]
    order = search(sq, location_ids=ids, limit=1).json()["orders"][0]
    exact = {"start_at": order["updated_at"], "end_at": order["updated_at"]}
    query = {
        "filter": {"date_time_filter": {"updated_at": exact}},
        "sort": {"sort_field": "UPDATED_AT"},
    }
    found = search(sq, location_ids=ids, query=query).json()
    assert order["id"] in {o["id"] for o in found["orders"]}
    offset = {  # the same instant written with an offset and microseconds
        "start_at": datetime.fromisoformat(order["updated_at"]).astimezone().isoformat(),
    }
    query["filter"] = {"date_time_filter": {"updated_at": offset}}
    assert order["id"] in {
        o["id"] for o in search(sq, location_ids=ids, query=query).json()["orders"]
    }


def test_catalog_begin_time_is_exclusive_and_latest_time_is_sent(sq: httpx.Client) -> None:
    objects, pages = walk(
        sq, "POST", "/v2/catalog/search", "objects", body={"object_types": CATALOG_TYPES}
    )
    newest = max(objects, key=lambda o: o["updated_at"])
    assert all(page["latest_time"] == pages[0]["latest_time"] for page in pages)
    assert pages[0]["latest_time"] >= newest["updated_at"]
    at = {"object_types": CATALOG_TYPES, "begin_time": newest["updated_at"]}
    just_before = iso_ms(datetime.fromisoformat(newest["updated_at"]) - timedelta(milliseconds=1))
    assert newest["id"] not in {
        o["id"] for o in walk(sq, "POST", "/v2/catalog/search", "objects", body=at)[0]
    }
    earlier = walk(
        sq, "POST", "/v2/catalog/search", "objects", body={**at, "begin_time": just_before}
    )
    assert newest["id"] in {o["id"] for o in earlier[0]}
    assert all(not o["is_deleted"] for o in objects), "deleted objects only when asked for"
    assert all(
        o["version"] == round(datetime.fromisoformat(o["updated_at"]).timestamp() * 1000)
        for o in objects
    )


def test_inventory_updated_after_is_exclusive(sq: httpx.Client) -> None:
    newest = sq.post("/v2/inventory/counts/batch-retrieve", json={"limit": 1}).json()["counts"][0]
    after = sq.post(
        "/v2/inventory/counts/batch-retrieve", json={"updated_after": newest["calculated_at"]}
    ).json()
    assert newest not in after.get("counts", [])
    one_location = sq.post(
        "/v2/inventory/counts/batch-retrieve",
        json={"location_ids": [newest["location_id"]], "states": ["IN_STOCK"], "limit": 1000},
    ).json()["counts"]
    assert {(c["location_id"], c["state"]) for c in one_location} == {
        (newest["location_id"], "IN_STOCK")
    }
    assert all(re.fullmatch(r"-?\d+", c["quantity"]) for c in one_location), "decimal strings"


def test_customer_rules(sq: httpx.Client) -> None:
    assert error_of(sq.get("/v2/customers", params={"limit": 0}))["code"] == "VALUE_TOO_LOW"
    assert error_of(sq.get("/v2/customers", params={"limit": 101}))["code"] == "VALUE_TOO_HIGH"
    customers = sq.get("/v2/customers", params={"limit": 100}).json()["customers"]
    assert all(MS_TIMESTAMP.match(c["created_at"]) for c in customers)
    assert all(SECOND_TIMESTAMP.match(c["updated_at"]) for c in customers), "whole seconds"
    wrong_keys = sq.post(
        "/v2/customers/search", json={"query": {"sort": {"sort_field": "CREATED_AT"}}}
    )
    names = [(c["given_name"], c["family_name"]) for c in wrong_keys.json()["customers"]]
    assert names == sorted(names), "sort_field is not a SearchCustomers key: default order"
    start = "2026-10-01T00:00:00Z"
    found, _ = walk(
        sq,
        "POST",
        "/v2/customers/search",
        "customers",
        body={
            "query": {
                "filter": {"updated_at": {"start_at": start}},
                "sort": {"field": "CREATED_AT"},
            }
        },
    )
    assert found and all(c["updated_at"] >= start for c in found)
    everyone, _ = walk(sq, "GET", "/v2/customers", "customers")
    assert {c["id"] for c in found} == {c["id"] for c in everyone if c["updated_at"] >= start}


def test_payments_default_to_the_main_location(sq: httpx.Client) -> None:
    ids = location_ids(sq)
    default, _ = walk(sq, "GET", "/v2/payments", "payments")
    assert len({p["location_id"] for p in default}) == 1
    main = default[0]["location_id"]
    per_location = {
        location_id: walk(
            sq, "GET", "/v2/payments", "payments", params={"location_id": location_id}
        )[0]
        for location_id in ids
    }
    assert {p["id"] for p in default} == {p["id"] for p in per_location[main]}
    assert sum(len(p) for p in per_location.values()) > 2 * len(default)
    busiest = max(per_location, key=lambda location_id: len(per_location[location_id]))
    assert len(per_location[busiest]) > 100
    big = sq.get("/v2/payments", params={"location_id": busiest, "limit": 500}).json()
    assert len(big["payments"]) == 100, "a limit above 100 is treated as 100"
    ignored_body = sq.request("GET", "/v2/payments", json={"location_id": ids[-1]})
    assert {p["location_id"] for p in ignored_body.json()["payments"]} == {main}
    created = [p["created_at"] for p in default]
    assert created == sorted(created, reverse=True), "DESC by default"


def test_payment_time_filters(sq: httpx.Client) -> None:
    main = walk(sq, "GET", "/v2/payments", "payments")[0]
    middle = sorted(p["created_at"] for p in main)[len(main) // 2]
    since, _ = walk(sq, "GET", "/v2/payments", "payments", params={"begin_time": middle})
    assert {p["id"] for p in since} == {p["id"] for p in main if p["created_at"] >= middle}
    until, _ = walk(sq, "GET", "/v2/payments", "payments", params={"end_time": middle})
    assert {p["id"] for p in until} == {p["id"] for p in main if p["created_at"] < middle}
    updated, _ = walk(
        sq,
        "GET",
        "/v2/payments",
        "payments",
        params={"updated_at_begin_time": middle, "sort_field": "UPDATED_AT", "sort_order": "ASC"},
    )
    stamps = [p["updated_at"] for p in updated]
    assert stamps == sorted(stamps) and all(s >= middle for s in stamps)


def test_refunds_span_all_locations_and_filter(sq: httpx.Client) -> None:
    refunds, _ = walk(sq, "GET", "/v2/refunds", "refunds")
    assert len({r["location_id"] for r in refunds}) > 1
    one = refunds[0]["location_id"]
    only, _ = walk(
        sq, "GET", "/v2/refunds", "refunds", params={"location_id": one, "status": "COMPLETED"}
    )
    assert {r["id"] for r in only} == {
        r["id"] for r in refunds if r["location_id"] == one and r["status"] == "COMPLETED"
    }


def test_square_version_header(square_sim: RunningSimulator, sq: httpx.Client) -> None:
    assert sq.get("/v2/locations").headers["Square-Version"] == "2025-10-16"
    bad = sq.get("/v2/locations", headers={"Square-Version": "latest"})
    assert error_of(bad)["code"] == "INVALID_SQUARE_VERSION_FORMAT"
    plain = httpx.get(
        square_sim.square_url + "/v2/locations",
        headers={"Authorization": f"Bearer {square_sim.token}"},
    )
    assert re.fullmatch(r"\d{4}-\d\d-\d\d", plain.headers["Square-Version"])
    assert sq.delete("/v2/locations").status_code == 405


@pytest.mark.parametrize("state", ["COMPLETED", "CANCELED"])
def test_order_money_adds_up(sq: httpx.Client, state: str) -> None:
    query = {"filter": {"state_filter": {"states": [state]}}}
    orders = all_orders(sq, query)
    assert orders and {o["state"] for o in orders} == {state}
    for order in orders:
        lines = order.get("line_items", [])
        for line in lines:
            gross = line["base_price_money"]["amount"] * int(line["quantity"])
            assert line["gross_sales_money"]["amount"] == gross
            assert line["total_money"]["amount"] == (
                gross - line["total_discount_money"]["amount"] + line["total_tax_money"]["amount"]
            )
        tip = order["total_tip_money"]["amount"]
        line_totals = sum(line["total_money"]["amount"] for line in lines)
        line_taxes = sum(line["total_tax_money"]["amount"] for line in lines)
        assert order["total_money"]["amount"] == line_totals + tip
        assert order["total_tax_money"]["amount"] == line_taxes
        assert all(isinstance(m["amount"], int) and m["currency"] == "USD" for m in _money(order))
        assert MS_TIMESTAMP.match(order["created_at"]) and MS_TIMESTAMP.match(order["updated_at"])
        if state == "COMPLETED" and "returns" not in order:
            paid = sum(t["amount_money"]["amount"] for t in order["tenders"])
            assert paid == order["total_money"]["amount"]


def _money(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, dict):
        if set(value) == {"amount", "currency"}:
            return [value]
        return [m for v in value.values() for m in _money(v)]
    if isinstance(value, list):
        return [m for v in value for m in _money(v)]
    return []
