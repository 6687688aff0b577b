"""The rollups of migrations 0012 and 0015 summed as the views of 0011 sum the same figures
(and the monthly and yearly product rollups as the daily one): each pair of queries answers
one row per key, and the two answers must be equal."""

from __future__ import annotations

from typing import Any

from possync.db.connection import Database

# (what, rollup query, view query): both give (key..., figures...) rows.
LIGHTSPEED_PAIRS = (
    (
        "daily",
        """SELECT business_date, location_id, sales_count, return_count, gross_sales,
                  discounts, returns, net_sales, tax, total_collected
           FROM analytics_daily_rollup WHERE source = 'lightspeed'""",
        """SELECT business_date, outlet_id, sales_count, return_count, gross_sales, discounts,
                  returns, net_sales, tax, total_collected
           FROM lightspeed_daily_sales""",
    ),
    (
        "hour",
        """SELECT business_date, location_id, label::int, item_count, amount
           FROM analytics_breakdown_rollup WHERE source = 'lightspeed' AND kind = 'hour'""",
        "SELECT business_date, outlet_id, local_hour, sales_count, net_sales "
        "FROM lightspeed_hourly_sales",
    ),
    (
        "user",
        """SELECT business_date, location_id, label, item_count, amount
           FROM analytics_breakdown_rollup WHERE source = 'lightspeed' AND kind = 'user'""",
        "SELECT business_date, outlet_id, user_id, sales_count, net_sales "
        "FROM lightspeed_user_sales",
    ),
    (
        "payment",
        """SELECT business_date, location_id, label, item_count, amount
           FROM analytics_breakdown_rollup WHERE source = 'lightspeed' AND kind = 'payment'""",
        "SELECT business_date, outlet_id, payment_method, payment_count, amount "
        "FROM lightspeed_payment_sales",
    ),
    (
        "product",
        """SELECT business_date, product_key, sum(units_e5) / 100000, sum(net_sales_e5) / 100000,
                  sum(cost_e5) / 100000
           FROM analytics_product_rollup WHERE source = 'lightspeed' GROUP BY 1, 2""",
        "SELECT business_date, product_id, units, net_sales, cost FROM lightspeed_product_sales",
    ),
    (
        "product month",
        """SELECT month, product_key, units_e5, net_sales_e5, cost_e5, sold_lines, day_rows
           FROM analytics_product_month_rollup WHERE source = 'lightspeed'""",
        """SELECT date_trunc('month', business_date)::date, product_key, sum(units_e5),
                  sum(net_sales_e5), sum(cost_e5), sum(sold_lines), count(*)
           FROM analytics_product_rollup WHERE source = 'lightspeed' GROUP BY 1, 2""",
    ),
    (
        "product year",
        """SELECT year, product_key, units_e5, net_sales_e5, cost_e5, sold_lines, day_rows
           FROM analytics_product_year_rollup WHERE source = 'lightspeed'""",
        """SELECT date_trunc('year', business_date)::date, product_key, sum(units_e5),
                  sum(net_sales_e5), sum(cost_e5), sum(sold_lines), count(*)
           FROM analytics_product_rollup WHERE source = 'lightspeed' GROUP BY 1, 2""",
    ),
    (
        "stock rate",
        "SELECT as_of, product_key, location_id, units_e5 FROM analytics_stock_rate",
        """SELECT n.newest, r.product_key, r.location_id, sum(r.units_e5)
           FROM analytics_product_rollup r,
                (SELECT max(business_date) AS newest FROM analytics_product_rollup
                  WHERE source = 'lightspeed') n
           WHERE r.source = 'lightspeed' AND r.business_date BETWEEN n.newest - 27 AND n.newest
           GROUP BY 1, 2, 3""",
    ),
)

SQUARE_PAIRS = (
    (
        "daily",
        """SELECT business_date, location_id, sales_count, return_count, gross_sales,
                  returns, discounts, net_sales, tax, tips, total_collected
           FROM analytics_daily_rollup WHERE source = 'square'""",
        """SELECT business_date, location_id, sales_count, return_count, gross_sales_money,
                  returns_money, discounts_money, net_sales_money, tax_money, tips_money,
                  total_collected_money
           FROM square_daily_sales""",
    ),
    (
        "team member",
        """SELECT business_date, location_id, label, item_count, amount
           FROM analytics_breakdown_rollup WHERE source = 'square' AND kind = 'user'""",
        "SELECT business_date, location_id, team_member_id, sales_count, net_sales_money "
        "FROM square_team_member_sales",
    ),
    (
        "payment",
        """SELECT business_date, location_id, label, item_count, amount
           FROM analytics_breakdown_rollup WHERE source = 'square' AND kind = 'payment'""",
        "SELECT business_date, location_id, payment_method, payment_count, amount_money "
        "FROM square_payment_sales",
    ),
    (
        "product",
        """SELECT business_date, product_key, sum(units_e5) / 100000, sum(net_sales_e5) / 100000
           FROM analytics_product_rollup WHERE source = 'square' GROUP BY 1, 2""",
        """SELECT business_date, catalog_object_id, units, net_sales_money
           FROM square_product_sales""",
    ),
    (
        "product month",
        """SELECT month, product_key, units_e5, net_sales_e5, cost_e5, sold_lines, day_rows
           FROM analytics_product_month_rollup WHERE source = 'square'""",
        """SELECT date_trunc('month', business_date)::date, product_key, sum(units_e5),
                  sum(net_sales_e5), sum(cost_e5), sum(sold_lines), count(*)
           FROM analytics_product_rollup WHERE source = 'square' GROUP BY 1, 2""",
    ),
    (
        "product year",
        """SELECT year, product_key, units_e5, net_sales_e5, cost_e5, sold_lines, day_rows
           FROM analytics_product_year_rollup WHERE source = 'square'""",
        """SELECT date_trunc('year', business_date)::date, product_key, sum(units_e5),
                  sum(net_sales_e5), sum(cost_e5), sum(sold_lines), count(*)
           FROM analytics_product_rollup WHERE source = 'square' GROUP BY 1, 2""",
    ),
)


def _rows(conn: Any, query: str) -> set[tuple[Any, ...]]:
    rows = [tuple(row) for row in conn.execute(query)]
    assert len(rows) == len(set(rows)), query  # no key twice
    return set(rows)


def assert_rollups_equal_views(db: Database, pairs: tuple[tuple[str, str, str], ...]) -> None:
    """Every pair answers the same rows; the stale-days queue is empty."""
    with db.connect() as conn:
        stale = conn.execute("SELECT count(*) FROM analytics_stale_days").fetchone()
        assert stale == (0,), "a sync leaves no day stale"
        for what, rollup, view in pairs:
            from_rollup, from_view = _rows(conn, rollup), _rows(conn, view)
            assert from_view, f"{what}: the view should hold rows"
            assert from_rollup == from_view, (
                what,
                sorted(from_rollup - from_view)[:3],
                sorted(from_view - from_rollup)[:3],
            )
