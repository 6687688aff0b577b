"""Each business page's figures and tables, from the readers, for one source and range."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import psycopg

from possync.web.analytics.chart import daily_sales_chart
from possync.web.analytics.periods import Period
from possync.web.analytics.product_page import read_products_page
from possync.web.analytics.products_data import (
    read_products,
    read_unsold,
    roll_up_categories,
    worst_first,
)
from possync.web.analytics.sales_data import (
    BREAKDOWN_TITLES,
    read_daily_sales,
    read_sales_page,
    total_of,
)
from possync.web.analytics.stock_data import read_stock
from possync.web.analytics.tables import (
    Table,
    breakdown_table,
    category_table,
    daily_table,
    location_table,
    product_table,
    reorder_table,
    unsold_table,
)

TOP_N = 10
BREAKDOWN_DEFINITIONS = {
    "hour": "Sales rung up in each hour of the day (local time); net sales.",
    "payment": "Payments taken on those sales, tax and tips included; refunds negative.",
    "user": "The user (team member) who rang each sale up; net sales.",
}


def change(current: Decimal | int | None, previous: Decimal | int | None) -> str | None:
    """The change on the previous period as a percentage, e.g. "+12.5%" (None: no base)."""
    if current is None or previous is None or not previous:
        return None
    percent = (Decimal(current) - Decimal(previous)) * 100 / abs(Decimal(previous))
    return f"{percent:+.1f}%"


def _by_day(rows: list[dict[str, Any]], period: Period) -> list[tuple[date, Decimal]]:
    totals: dict[date, Decimal] = {}
    for row in rows:
        totals[row["date"]] = totals.get(row["date"], Decimal(0)) + (row["net_sales"] or 0)
    return [
        (day, totals.get(day, Decimal(0)))
        for day in (period.start + timedelta(days=i) for i in range(period.days))
    ]


def sales(
    conn: psycopg.Connection[Any],
    source: str,
    period: Period,
) -> tuple[dict[str, Any], list[Table]]:
    """Totals (and the previous period's), the chart, and the tables of the Sales page."""
    rows, breakdowns = read_sales_page(conn, source, period)
    previous_period = period.previous()
    previous_rows = read_daily_sales(conn, source, previous_period)
    totals, previous = total_of(rows), total_of(previous_rows)
    summary = {
        "totals": totals,
        "previous": previous,
        "previous_period": previous_period,
        "changes": {key: change(totals[key], previous[key]) for key in totals if key != "currency"},
        "chart": daily_sales_chart(_by_day(rows, period), _by_day(previous_rows, previous_period)),
    }
    tables = [daily_table(rows), location_table(rows)]
    for kind, title in BREAKDOWN_TITLES.items():
        if kind in breakdowns:
            definition = BREAKDOWN_DEFINITIONS[kind]
            tables.append(breakdown_table(kind, title, definition, breakdowns[kind]))
    return summary, tables


def products(
    conn: psycopg.Connection[Any],
    source: str,
    period: Period,
    unsold_days: int | None,
    page_rows: int | None = None,
) -> tuple[dict[str, Any], list[Table]]:
    """Top and bottom products, categories, and products not sold for `unsold_days` (None:
    in the range itself). `page_rows`: the page shows only that many rows of each table, so
    only those are read (product_page); None: every row (CSV, JSON)."""
    unsold_days = unsold_days or period.days
    if page_rows is not None:
        page = read_products_page(
            conn, source, period, unsold_days, rows=page_rows, bottom=TOP_N, unsold_limit=page_rows
        )
        top, bottom, categories = page.top, page.bottom, page.categories
        listed, unsold, unsold_count = page.products_listed, page.unsold, page.unsold_count
        summary = {"products_sold": page.products_sold, "net_sales": page.net_sales,
                   "units": page.units}  # fmt: skip
    else:
        top = read_products(conn, source, period)
        categories = roll_up_categories(top)
        sold = [p for p in top if p.units > 0]
        # Lines with no positive takings (Lightspeed's discount item) are not products that sell.
        earning = [p for p in sold if p.net_sales > 0]
        bottom = sorted(earning, key=worst_first)[:TOP_N]
        listed = len(top)
        unsold, unsold_count = read_unsold(conn, source, period, unsold_days)
        summary = {
            "products_sold": len(sold),
            "net_sales": sum((p.net_sales for p in top), Decimal(0)),
            "units": sum((p.units for p in top), Decimal(0)),
        }
    summary.update(unsold_count=unsold_count, unsold_days=unsold_days)
    tables = [
        product_table("top", f"Top {TOP_N} products by net sales", top[:TOP_N]),
        product_table("bottom", f"Bottom {TOP_N} products that sold", bottom),
        category_table(categories),
        product_table("all", "Every product sold", top, listed),
        unsold_table(unsold_days, unsold, unsold_count),
    ]
    return summary, tables


def stock(
    conn: psycopg.Connection[Any], source: str, period: Period, limit: int | None = None
) -> tuple[dict[str, Any], list[Table]]:
    """Stock value at cost and the reorder list (Lightspeed): the first `limit` lines, or all."""
    totals, reorder = read_stock(conn, source, period, limit)
    summary = {
        "stock_value": totals.stock_value,
        "to_reorder": totals.to_reorder,
        "stock_lines": totals.stock_lines,
        "units_on_hand": totals.units_on_hand,
    }
    return summary, [reorder_table(reorder)]
