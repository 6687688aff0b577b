"""Every figure of the Sales and Products pages equals the simulator's truth to the cent:
finished sales only (voided, parked, open and deleted ones left out), returns as their own
sales, discounts, and business dates in each outlet's time zone (Auckland's dates differ from
UTC's for most sales)."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from flask.testing import FlaskClient

from possync.simulator import RunningSimulator
from tests.analytics.conftest import lightspeed_state
from tests.analytics.truth import (
    breakdown_truth,
    counted_sales,
    daily_truth,
    local_time,
    product_truth,
)

MONEY = ("net_sales", "tax", "discounts", "returns", "gross_sales", "total_collected")


def _full_range(simulator: RunningSimulator) -> dict[str, str]:
    state = lightspeed_state(simulator)
    days = [local_time(state, s).date() for s in counted_sales(state)]
    return {"source": "lightspeed", "from": min(days).isoformat(), "to": max(days).isoformat()}


def test_daily_sales_endpoint_equals_truth(
    client: FlaskClient, simulator: RunningSimulator
) -> None:
    state = lightspeed_state(simulator)
    expected = daily_truth(state)
    statuses = {s.status for s in state.sales.values()}
    assert {"VOIDED", "SAVED", "LAYBY_CLOSED"} <= statuses, "the store should hold every kind"
    assert any(s.deleted_at for s in state.sales.values() if s.status == "CLOSED")
    assert any(s.return_for for s in counted_sales(state))
    left_out = [s for s in state.sales.values() if s.status == "VOIDED" or s.deleted_at is not None]
    # Were voided or deleted sales counted, the totals below would be off by this much.
    assert sum(s.total_price_cents for s in left_out) > 0
    # Most Auckland sales fall on another UTC date: the local date is the one that counts.
    crossing = [
        s
        for s in counted_sales(state)
        if local_time(state, s).date() != datetime.fromtimestamp(s.sale_date, UTC).date()
    ]
    assert len(crossing) > 100

    response = client.get("/api/analytics/daily-sales", query_string=_full_range(simulator))
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["currency"] == "NZD"
    stored = {(row["date"], row["location_id"]): row for row in body["rows"]}
    assert stored.keys() == expected.keys()
    for key, truth in expected.items():
        row = stored[key]
        assert row["sales_count"] == truth["sales_count"], key
        assert row["return_count"] == truth["return_count"], key
        for field in MONEY:
            assert Decimal(row[field]) == truth[field], (key, field, row[field], truth[field])
        assert row["tips"] is None  # Lightspeed has no tips
        if truth["sales_count"]:
            average = (Decimal(truth["basket"]) / 100 / truth["sales_count"]).quantize(
                Decimal("0.01"), rounding=ROUND_HALF_UP
            )
            assert Decimal(row["average_sale"]) == average, key
    totals = body["totals"]
    assert totals["sales_count"] == sum(t["sales_count"] for t in expected.values())
    for field in MONEY:
        assert Decimal(totals[field]) == sum(t[field] for t in expected.values()), field


def test_breakdowns_equal_truth(client: FlaskClient, simulator: RunningSimulator) -> None:
    expected = breakdown_truth(lightspeed_state(simulator))
    args = _full_range(simulator)
    for table in ("hour", "payment", "user"):
        response = client.get(f"/analytics/sales/{table}.csv", query_string=args)
        assert response.status_code == 200
        assert response.mimetype == "text/csv"
        rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
        got = {r["Label"]: (int(r["Count"]), Decimal(r["Amount"])) for r in rows}
        assert got == expected[table], table


def test_products_equal_truth(client: FlaskClient, simulator: RunningSimulator) -> None:
    state = lightspeed_state(simulator)
    expected = product_truth(state)
    names = {pid: (r["name"], r.get("sku") or "") for pid, r in state.records["products"].items()}
    response = client.get("/analytics/products/all.csv", query_string=_full_range(simulator))
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert len(rows) == len(expected)
    by_name: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_name[(row["Product"], row["SKU"])].append(row)
    for pid, truth in expected.items():
        (row,) = by_name[names[pid]]
        assert Decimal(row["Units"]) == truth["units"], pid
        assert Decimal(row["Net sales"]) == truth["net_sales"], pid
        assert Decimal(row["Cost"]) == truth["cost"], pid
        assert Decimal(row["Margin"]) == truth["net_sales"] - truth["cost"], pid
    # The page lists the first 50 of every product sold and says how many there are.
    assert len(expected) > 50
    html = client.get("/products", query_string=_full_range(simulator)).get_data(as_text=True)
    assert f"Showing 50 of {len(expected)}; the CSV has them all." in html
    # The top table is the ten best by net sales.
    top = client.get("/api/analytics/products", query_string=_full_range(simulator)).get_json()
    best = sorted(expected.values(), key=lambda t: -t["net_sales"])[:10]
    assert [Decimal(r["Net sales"]) for r in top["tables"]["top"]] == [t["net_sales"] for t in best]
