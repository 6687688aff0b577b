"""Square's figures on the Sales page equal the simulator's orders, as Square's Sales Summary
defines them: gross sales, returns (their own orders), discounts, net sales, tax, tips, with
money converted exactly from minor units and dates in each location's time zone."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from typing import Any

import orjson
from flask.testing import FlaskClient

from possync.db.connection import Database
from possync.simulator import RunningSimulator
from tests.analytics.truth import square_team_member_truth

MONEY = ("gross_sales", "returns", "discounts", "net_sales", "tax", "tips", "total_collected")


def _amount(document: dict[str, Any], *path: str) -> int:
    value: Any = document
    for key in path:
        value = (value or {}).get(key)
    return int((value or {}).get("amount") or 0)


def square_daily_truth(sim: RunningSimulator) -> dict[tuple[str, str], dict[str, Any]]:
    """Per (local date, location): counts and Sales Summary money in cents."""
    store: Any = sim.simulator.apis["square"]  # the in-process SquareStore
    data = store.data
    days: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for order in data.orders.values():
        if order.state != "COMPLETED" or order.id in data.malformed["orders"]:
            continue
        doc = orjson.loads(order.json)
        zone = data.locations[order.location_id].zone
        local = datetime.fromisoformat(doc["created_at"].replace("Z", "+00:00")).astimezone(zone)
        day = days[(local.date().isoformat(), order.location_id)]
        total, tax = _amount(doc, "total_money"), _amount(doc, "total_tax_money")
        tip, discount = _amount(doc, "total_tip_money"), _amount(doc, "total_discount_money")
        service = _amount(doc, "total_service_charge_money")
        returned = doc.get("return_amounts")
        if returned:
            day["return_count"] += 1
            r_tax, r_discount = _amount(returned, "tax_money"), _amount(returned, "discount_money")
            day["returns"] += _amount(returned, "total_money") - r_tax + r_discount
            day["discounts"] -= r_discount
            day["tax"] -= r_tax
        else:
            day["sales_count"] += 1
            day["gross_sales"] += total - tax - tip - service + discount
            day["discounts"] += discount
            day["tax"] += tax
            day["tips"] += tip
            day["service"] += service
    for day in days.values():
        day["net_sales"] = day["gross_sales"] - day["returns"] - day["discounts"]
        day["total_collected"] = day["net_sales"] + day["tax"] + day["tips"] + day["service"]
    return {key: dict(value) for key, value in days.items()}


def test_square_daily_sales_equal_truth(
    square_client: FlaskClient, square_sim: RunningSimulator
) -> None:
    expected = square_daily_truth(square_sim)
    assert any(d.get("return_count") for d in expected.values()), "returns should be there"
    assert any(d.get("tips") for d in expected.values()), "tips should be there"
    dates = sorted(day for day, _ in expected)
    body = square_client.get(
        "/api/analytics/daily-sales",
        query_string={"source": "square", "from": dates[0], "to": dates[-1]},
    ).get_json()
    assert body["currency"] == "USD"
    stored = {(row["date"], row["location_id"]): row for row in body["rows"]}
    assert stored.keys() == expected.keys()
    for key, truth in expected.items():
        row = stored[key]
        assert row["sales_count"] == truth.get("sales_count", 0), key
        assert row["return_count"] == truth.get("return_count", 0), key
        for field in MONEY:
            # Minor units (cents) to dollars, exactly: a decimal string with two places.
            assert row[field] == f"{Decimal(truth.get(field, 0)) / 100:.2f}", (key, field)


def test_square_pages_show_the_same_totals(
    square_client: FlaskClient, square_sim: RunningSimulator
) -> None:
    expected = square_daily_truth(square_sim)
    dates = sorted(day for day, _ in expected)
    args = {"source": "square", "from": dates[0], "to": dates[-1]}
    net = sum(d.get("net_sales", 0) for d in expected.values())
    tips = sum(d.get("tips", 0) for d in expected.values())
    page = square_client.get("/sales", query_string=args)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f"{Decimal(net) / 100:,.2f}" in html
    assert "<dt>Tips</dt>" in html and f"{Decimal(tips) / 100:,.2f}" in html
    assert 'data-table="user"' in html  # Square's payments name their team member
    products = square_client.get("/api/analytics/products", query_string=args).get_json()
    assert products["tables"]["top"], "Square's items sold should be listed"
    stock = square_client.get("/stock", query_string=args).get_data(as_text=True)
    assert "only Lightspeed gives" in stock


def test_square_daily_sales_view_equals_truth(
    square_client: FlaskClient, square_sim: RunningSimulator, db: Database
) -> None:
    expected = square_daily_truth(square_sim)
    fields = ("gross_sales", "returns", "discounts", "net_sales", "tax", "tips", "total_collected")
    with db.connect() as conn:
        rows = conn.execute(
            """SELECT business_date::text, location_id, sales_count, return_count,
                      gross_sales_money, returns_money, discounts_money, net_sales_money,
                      tax_money, tips_money, total_collected_money
               FROM square_daily_sales"""
        ).fetchall()
    stored = {(r[0], r[1]): r[2:] for r in rows}
    assert stored.keys() == expected.keys()
    for key, truth in expected.items():
        want = (truth.get("sales_count", 0), truth.get("return_count", 0))
        want += tuple(truth.get(field, 0) for field in fields)
        assert stored[key] == want, key  # minor units (cents), as Square stores them


def test_square_sales_by_team_member_equal_truth(
    square_client: FlaskClient, square_sim: RunningSimulator
) -> None:
    expected = square_team_member_truth(square_sim)
    assert len([label for label in expected if label != "No user"]) >= 2
    dates = sorted(day for day, _ in square_daily_truth(square_sim))
    args = {"source": "square", "from": dates[0], "to": dates[-1]}
    response = square_client.get("/analytics/sales/user.csv", query_string=args)
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    got = {r["Label"]: (int(r["Count"]), Decimal(r["Amount"])) for r in rows}
    assert got == {label: (n, Decimal(cents) / 100) for label, (n, cents) in expected.items()}
