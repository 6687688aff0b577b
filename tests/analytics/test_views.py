"""The SQL views analysts query give the same numbers as the pages: each compared with the
simulator's truth on a real sync."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from possync.config.settings import Settings
from possync.db.connection import Database
from possync.simulator import RunningSimulator
from tests.analytics.conftest import lightspeed_state
from tests.analytics.truth import (
    breakdown_truth,
    counted_sales,
    daily_truth,
    local_time,
    product_truth,
)

DAILY = ("gross_sales", "discounts", "returns", "net_sales", "tax", "total_collected")


def test_lightspeed_views_equal_truth(
    synced_settings: Settings, db: Database, simulator: RunningSimulator
) -> None:
    state = lightspeed_state(simulator)
    expected_days = daily_truth(state)
    expected_products = product_truth(state)
    breakdowns = breakdown_truth(state)
    with db.connect() as conn:
        days = {
            (str(r[0]), r[1]): r[2:]
            for r in conn.execute(
                f"""SELECT business_date, outlet_id, sales_count, return_count, {", ".join(DAILY)}
                    FROM lightspeed_daily_sales"""
            )
        }
        products = {
            r[0]: r[1:]
            for r in conn.execute(
                """SELECT product_id, sum(units), sum(net_sales), sum(cost), sum(margin)
                   FROM lightspeed_product_sales GROUP BY product_id"""
            )
        }
        hours = dict(
            conn.execute(
                "SELECT lpad(local_hour::text, 2, '0') || ':00', sum(net_sales) "
                "FROM lightspeed_hourly_sales GROUP BY 1"
            ).fetchall()
        )
        payments = dict(
            conn.execute(
                "SELECT payment_method, sum(amount) FROM lightspeed_payment_sales GROUP BY 1"
            ).fetchall()
        )
        last_sold = dict(
            conn.execute(
                "SELECT product_id, last_sold_date::text FROM lightspeed_product_last_sold"
            ).fetchall()
        )
    assert days.keys() == expected_days.keys()
    for key, truth in expected_days.items():
        assert days[key][:2] == (truth["sales_count"], truth["return_count"]), key
        assert list(days[key][2:]) == [truth[field] for field in DAILY], key
    assert products.keys() == expected_products.keys()
    for pid, truth in expected_products.items():
        units, net, cost, margin = products[pid]
        assert (units, net, cost) == (truth["units"], truth["net_sales"], truth["cost"]), pid
        assert margin == net - cost
    assert hours == {label: amount for label, (_, amount) in breakdowns["hour"].items()}
    assert payments == {label: amount for label, (_, amount) in breakdowns["payment"].items()}
    latest: dict[str, str] = defaultdict(str)
    for sale in counted_sales(state):
        day = local_time(state, sale).date().isoformat()
        for line in sale.lines:
            if line.quantity > 0:
                latest[line.product_id] = max(latest[line.product_id], day)
    assert last_sold, "the view should list the store's products"
    for pid, day in last_sold.items():
        assert day == (latest.get(pid) or None), pid
    assert sum(Decimal(v[5]) for v in days.values()) == sum(
        t["net_sales"] for t in expected_days.values()
    )
