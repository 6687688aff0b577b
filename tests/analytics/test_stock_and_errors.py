"""The Stock page equals the simulator's inventory; bad parameters get a one-line 400."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask.testing import FlaskClient

from possync.db.connection import Database
from possync.simulator import RunningSimulator
from possync.web.analytics.periods import Period
from possync.web.analytics.stock_data import read_stock
from tests.analytics.conftest import lightspeed_state
from tests.analytics.truth import counted_sales, local_time


def test_stock_value_and_reorder_list_equal_truth(
    client: FlaskClient, simulator: RunningSimulator
) -> None:
    state = lightspeed_state(simulator)
    products = state.records["products"]
    value = Decimal(0)
    to_reorder = set()
    for record in state.records["inventory"].values():
        product = products.get(record["product_id"])
        if record["deleted_at"] or product is None or product["deleted_at"]:
            continue
        if not product["active"] or not product["has_inventory"]:
            continue
        cost = Decimal(str(product["supply_price"]))
        value += (max(Decimal(record["current_amount"]), Decimal(0)) * cost).quantize(
            Decimal("0.01")
        )
        if record["current_amount"] <= record["reorder_point"]:
            to_reorder.add(record["id"])
    assert to_reorder, "the store should have something to reorder"

    body = client.get("/api/analytics/stock", query_string={"source": "lightspeed"}).get_json()
    assert Decimal(body["summary"]["stock_value"]) == value
    assert body["summary"]["to_reorder"] == len(to_reorder)
    response = client.get("/analytics/stock/reorder.csv", query_string={"source": "lightspeed"})
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert len(rows) == len(to_reorder)
    assert all(Decimal(r["On hand"]) <= Decimal(r["Reorder point"]) for r in rows)


def test_bad_parameters_get_one_clear_line(client: FlaskClient) -> None:
    cases = {
        "source=vend": "source='vend' is not known: use lightspeed or square",
        "from=2026-13-01": "from='2026-13-01' is not a date: use YYYY-MM-DD",
        "from=2026-11-02&to=2026-11-01": "from=2026-11-02 is after to=2026-11-01: swap them",
    }
    for args, message in cases.items():
        response = client.get(f"/api/analytics/daily-sales?{args}")
        assert response.status_code == 400, args
        assert response.get_json() == {"error": message}
        page = client.get(f"/sales?{args}")
        assert page.status_code == 400
        assert message.replace("'", "&#39;") in page.get_data(as_text=True)


def test_pages_need_the_login(analytics_app_client: FlaskClient) -> None:
    assert analytics_app_client.get("/api/analytics/daily-sales").status_code == 401
    response = analytics_app_client.get("/sales")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_products_not_sold_for_n_days_equal_truth(
    client: FlaskClient, simulator: RunningSimulator
) -> None:
    state = lightspeed_state(simulator)
    end = max(local_time(state, s).date() for s in counted_sales(state))
    days = 10
    start = end - timedelta(days=days - 1)
    sold_recently = {
        line.product_id
        for sale in counted_sales(state)
        if start <= local_time(state, sale).date() <= end
        for line in sale.lines
        if line.quantity > 0
    }
    products = state.records["products"]
    on_hand: dict[str, int] = {}
    for record in state.records["inventory"].values():
        if not record["deleted_at"]:
            on_hand[record["product_id"]] = on_hand.get(record["product_id"], 0) + max(
                record["current_amount"], 0
            )
    expected = {
        pid
        for pid, p in products.items()
        if not p["deleted_at"] and p["active"] and p["has_inventory"]
        and on_hand.get(pid, 0) > 0 and pid not in sold_recently
    }  # fmt: skip
    assert expected, "some products should have stood still for ten days"
    names = {(p["name"], p.get("sku") or "") for pid, p in products.items() if pid in expected}
    # `days` inside a longer range, and (by default) the range itself: two ways, one answer.
    for args in (
        {"source": "lightspeed", "to": end.isoformat(), "days": str(days)},
        {"source": "lightspeed", "from": start.isoformat(), "to": end.isoformat()},
    ):
        response = client.get("/analytics/products/unsold.csv", query_string=args)
        rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
        assert {(r["Product"], r["SKU"]) for r in rows} == names, args
        assert len(rows) == len(expected)
        assert all(Decimal(r["On hand"]) > 0 for r in rows)


def test_a_range_after_the_newest_sale_offers_the_newest_sales(
    client: FlaskClient, simulator: RunningSimulator
) -> None:
    state = lightspeed_state(simulator)
    zone = ZoneInfo("Pacific/Auckland")  # the shop's zone in these tests' settings
    newest = max(
        datetime.fromtimestamp(s.sale_date, zone).date()
        for s in state.sales.values()
        if s.deleted_at is None and not s.malformed
    )
    later = newest + timedelta(days=40)
    for page in ("sales", "products", "stock"):
        args = {"source": "lightspeed", "from": later.isoformat(), "to": later.isoformat()}
        html = client.get(f"/{page}", query_string=args).get_data(as_text=True)
        assert f"the newest sale stored is on {newest.isoformat()}" in html, page
        assert f"from={(newest - timedelta(days=29)).isoformat()}" in html, page
        assert f"to={newest.isoformat()}" in html, page
    inside = {"source": "lightspeed", "from": newest.isoformat(), "to": later.isoformat()}
    assert "data-newest-sales" not in client.get("/sales", query_string=inside).get_data(
        as_text=True
    )


def test_days_of_cover_up_to_the_newest_day_equal_the_sales(
    client: FlaskClient, db: Database
) -> None:
    # The range ending on the newest day with sales reads the rate the refresh keeps
    # (migration 0015); it must equal the lines of the 28 days summed from the sales.
    with db.connect() as conn:
        kept = conn.execute("SELECT max(as_of) FROM analytics_stock_rate").fetchone()
        newest = conn.execute("SELECT max(business_date) FROM lightspeed_line_facts").fetchone()
        assert kept is not None and newest is not None and kept[0] == newest[0]
        sold = {
            (sku, outlet): units
            for sku, outlet, units in conn.execute(
                """SELECT p.sku, o.name, sum(l.units)
                   FROM lightspeed_line_facts l
                   JOIN lightspeed_products p ON p.id = l.product_id
                   JOIN lightspeed_outlets o ON o.id = l.outlet_id
                   WHERE l.business_date BETWEEN %s::date - 27 AND %s
                   GROUP BY 1, 2""",
                [newest[0], newest[0]],
            )
        }
    args = {"source": "lightspeed", "to": newest[0].isoformat()}
    response = client.get("/analytics/stock/reorder.csv", query_string=args)
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert sum(1 for r in rows if Decimal(r["Sold (28 days)"]) > 0) > 10
    for row in rows:
        expected = sold.get((row["SKU"], row["Outlet"]), Decimal(0))
        assert Decimal(row["Sold (28 days)"]) == expected, row
        if expected > 0:
            on_hand = max(Decimal(row["On hand"]), Decimal(0))
            cover = (on_hand * 28 / expected).quantize(Decimal("0.1"))
            assert Decimal(row["Days of cover"]) == cover, row


def test_the_stock_snapshot_equals_the_stock_summed_at_request(
    client: FlaskClient, db: Database
) -> None:
    # Three readings of the same stock and window: the snapshot the refresh keeps, the lines
    # with the kept sales rate, and the lines with the rate summed from the daily rollups.
    with db.connect() as conn:
        newest = conn.execute("SELECT max(as_of) FROM analytics_stock_summary").fetchone()
        assert newest is not None and newest[0] is not None
        period = Period(newest[0] - timedelta(days=29), newest[0])
        snapshot = read_stock(conn, "lightspeed", period)
        # The inventory written again (a sync's page): the snapshot is not used until refreshed.
        conn.execute("UPDATE lightspeed_inventory SET version = version")
        with_kept_rate = read_stock(conn, "lightspeed", period)
        conn.execute("DELETE FROM analytics_stock_rate")
        summed = read_stock(conn, "lightspeed", period)
        conn.rollback()
    assert snapshot[0].to_reorder > 10 and len(snapshot[1]) == snapshot[0].to_reorder
    assert snapshot == with_kept_rate == summed


def test_a_changed_stock_line_reaches_the_stock_page(client: FlaskClient, db: Database) -> None:
    with db.connect() as conn:
        row = conn.execute(
            """SELECT i.id, p.sku, s.as_of FROM lightspeed_inventory i
               JOIN lightspeed_products p ON p.id = i.product_id, analytics_stock_summary s
               WHERE i.deleted_at IS NULL AND p.deleted_at IS NULL AND p.active
                 AND p.has_inventory AND i.reorder_point > 0
                 AND i.current_amount > i.reorder_point
               ORDER BY i.id LIMIT 1"""
        ).fetchone()
        assert row is not None
        line_id, sku, newest = row
    args = {"source": "lightspeed", "to": newest.isoformat()}
    before = client.get("/api/analytics/stock", query_string=args).get_json()
    with db.connect() as conn:
        conn.execute("UPDATE lightspeed_inventory SET current_amount = 0 WHERE id = %s", [line_id])
        conn.commit()
    after = client.get("/api/analytics/stock", query_string=args).get_json()
    assert after["summary"]["to_reorder"] == before["summary"]["to_reorder"] + 1
    assert sku in {r["SKU"] for r in after["tables"]["reorder"]}
    assert sku not in {r["SKU"] for r in before["tables"]["reorder"]}
