"""The Products page sums any range from calendar blocks added and subtracted (years, months,
days; migration 0015): every product's figures equal its daily rows summed over the range, and
the page's own reading (only the rows it shows) equals the full one the CSV and JSON give."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import psycopg
from flask.testing import FlaskClient

from possync.db.connection import Database
from possync.web.analytics import page_data
from possync.web.analytics.blocks import signed_blocks
from possync.web.analytics.periods import Period
from possync.web.analytics.products_data import read_products

_DAILY_SUMS = """
SELECT product_key, sum(units_e5), sum(net_sales_e5), sum(cost_e5)
FROM analytics_product_rollup
WHERE source = %s AND business_date BETWEEN %s AND %s
GROUP BY product_key"""


def _ranges(conn: psycopg.Connection[Any], source: str) -> list[Period]:
    row = conn.execute(
        "SELECT min(business_date), max(business_date) FROM analytics_product_rollup "
        "WHERE source = %s",
        [source],
    ).fetchone()
    assert row is not None and row[0] is not None
    first, last = row
    assert (last - first).days >= 55, "the store should span about two months"
    ranges = [
        Period(first, last),  # whole months and the days around them
        Period(last - timedelta(days=29), last),  # a month less its first days, plus more
        Period(last - timedelta(days=45), last - timedelta(days=12)),
        Period(last, last),
        Period(first - timedelta(days=400), first + timedelta(days=3)),  # before the data
        Period(date(last.year, last.month, 1) - timedelta(days=1), last + timedelta(days=90)),
    ]
    # Between them they read years, months and days, and subtract some.
    blocks = [b for r in ranges for b in signed_blocks(r, Period(first, last))]
    assert {b.level for b in blocks} == {"year", "month", "day"}
    assert any(b.sign < 0 for b in blocks)
    return ranges


def _assert_sums_equal_daily_rows(conn: psycopg.Connection[Any], source: str) -> None:
    for period in _ranges(conn, source):
        expected = {
            str(key): (Decimal(units).scaleb(-5), Decimal(net).scaleb(-5), cost)
            for key, units, net, cost in conn.execute(
                _DAILY_SUMS, [source, period.start, period.end]
            )
        }
        figures = read_products(conn, source, period)
        assert len(figures) == len(expected), period
        for product in figures:
            units, net, cost = expected[product.key]
            assert product.units == units, (period, product.key)
            if source == "lightspeed":
                assert product.net_sales == net, (period, product.key)
                assert product.cost == Decimal(cost).scaleb(-5), (period, product.key)
            else:  # Square: cents
                assert product.net_sales == net / 100, (period, product.key)


def _assert_page_equals_full_reading(
    conn: psycopg.Connection[Any], source: str, unsold_days: int | None
) -> None:
    rows = 50
    for period in _ranges(conn, source):
        page_summary, page_tables = page_data.products(conn, source, period, unsold_days, rows)
        full_summary, full_tables = page_data.products(conn, source, period, unsold_days)
        assert page_summary == full_summary, period
        for page_table, full_table in zip(page_tables, full_tables, strict=True):
            assert page_table.name == full_table.name
            assert page_table.rows == full_table.rows[:rows], (period, page_table.name)
            assert page_table.row_count == full_table.row_count, (period, page_table.name)


def test_lightspeed_ranges_sum_exactly_and_the_page_reads_what_it_shows(
    client: FlaskClient, db: Database
) -> None:
    with db.connect() as conn:
        _assert_sums_equal_daily_rows(conn, "lightspeed")
        _assert_page_equals_full_reading(conn, "lightspeed", None)
        _assert_page_equals_full_reading(conn, "lightspeed", 10)
        # The ranges above list more products than the page shows, and some not selling.
        period = _ranges(conn, "lightspeed")[0]
        summary, tables = page_data.products(conn, "lightspeed", period, 10, 50)
        assert tables[3].row_count > 50 and summary["unsold_count"] > 0


def test_square_ranges_sum_exactly_and_the_page_reads_what_it_shows(
    square_client: FlaskClient, db: Database
) -> None:
    with db.connect() as conn:
        _assert_sums_equal_daily_rows(conn, "square")
        _assert_page_equals_full_reading(conn, "square", None)
