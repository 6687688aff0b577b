"""The Products page as the page shows it, from one statement: the range's sums per product
are added up once in PostgreSQL, which answers only the rows the page shows (the first
products, the bottom ten, the categories, the totals and the products not selling) instead of
every product sold (thousands on a big store) for Python to sort. The CSV and JSON read every
product (products_data.read_products); tests/analytics keep the two equal."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import psycopg

from possync.money import minor_to_units
from possync.web.analytics.periods import Period
from possync.web.analytics.products_data import (
    BEST_FIRST_SQL,
    NAMED,
    UNSOLD,
    WORST_FIRST_SQL,
    ProductFigures,
    UnsoldProduct,
    best_first,
    block_params,
    figures_of,
    oldest_sale_first,
    read_unsold,
    unsold_of,
    unsold_window,
    worst_first,
)

# Every part in the row format of `named` (key, name, sku, category, units, net sales, cost,
# currency, sold lines), tagged. Names are ordered as Python orders them (by code point).
_PARTS = f"""
SELECT 'top', * FROM (
    SELECT * FROM named ORDER BY {BEST_FIRST_SQL} LIMIT %(rows)s) top
UNION ALL
SELECT 'bottom', * FROM (
    SELECT * FROM named WHERE units > 0 AND net_sales > 0
    ORDER BY {WORST_FIRST_SQL} LIMIT %(bottom)s) bottom
UNION ALL
SELECT 'category', category, category, NULL, category, sum(units), sum(net_sales),
       CASE WHEN count(cost) = count(*) THEN sum(cost) END, max(currency), sum(sold_lines)
FROM named GROUP BY category
UNION ALL
-- Totals: units and net sales of every product, products sold (units > 0), products listed.
SELECT 'summary', NULL, NULL, NULL, NULL, COALESCE(sum(units), 0), COALESCE(sum(net_sales), 0),
       count(*) FILTER (WHERE units > 0), max(currency), count(*)
FROM named"""
# With the products not selling, when their window is the range (its sums are `sold`).
_UNSOLD_PARTS = """
UNION ALL
SELECT 'unsold', id, name, sku, NULL, on_hand, NULL, NULL, last_sold::text, total
FROM unsold_listed"""


@dataclass(frozen=True)
class ProductsPage:
    """What the Products page shows of a range."""

    top: list[ProductFigures]  # the best `rows` products by net sales
    bottom: list[ProductFigures]
    categories: list[ProductFigures]
    products_listed: int  # every product sold or returned in the range
    products_sold: int  # of which with units > 0
    units: Decimal
    net_sales: Decimal
    unsold: list[UnsoldProduct]
    unsold_count: int


def read_products_page(
    conn: psycopg.Connection[Any],
    source: str,
    period: Period,
    unsold_days: int,
    *,
    rows: int,
    bottom: int,
    unsold_limit: int,
) -> ProductsPage:
    """The page's parts of the range's products (see the module's docstring)."""
    window = unsold_window(period, unsold_days)
    with_unsold = source == "lightspeed" and window == period
    query = NAMED[source] + (UNSOLD if with_unsold else "") + _PARTS
    if with_unsold:
        query += _UNSOLD_PARTS
    params = {
        **block_params(conn, source, period),
        "rows": rows,
        "bottom": bottom,
        "end": window.end,
        "limit": unsold_limit,
    }
    parts: dict[str, list[Any]] = {"top": [], "bottom": [], "category": [], "unsold": []}
    summary: Any = None
    for part, *row in conn.execute(query, params):
        if part == "summary":
            summary = row
        else:
            parts[part].append(row)
    assert summary is not None  # an aggregate always answers one row
    top = sorted((figures_of(source, r) for r in parts["top"]), key=best_first)
    low = sorted((figures_of(source, r) for r in parts["bottom"]), key=worst_first)
    categories = [figures_of(source, r) for r in parts["category"]]
    categories.sort(key=lambda c: (-c.net_sales, c.name))
    if with_unsold:
        unsold = [
            unsold_of((r[0], r[1], r[2], r[4], r[8], r[7] and date.fromisoformat(r[7])))
            for r in parts["unsold"]
        ]
        unsold.sort(key=oldest_sale_first)
        unsold_count = int(parts["unsold"][0][8]) if parts["unsold"] else 0
    else:
        unsold, unsold_count = read_unsold(conn, source, period, unsold_days, unsold_limit)
    _, _, _, _, units, net, products_sold, currency, listed = summary
    net_sales = Decimal(int(net)).scaleb(-5)
    if source == "square":
        net_sales = minor_to_units(int(net_sales), currency) or Decimal(0)
    return ProductsPage(
        top=top,
        bottom=low,
        categories=categories,
        products_listed=int(listed),
        products_sold=int(products_sold),
        units=Decimal(int(units)).scaleb(-5).normalize(),
        net_sales=net_sales,
        unsold=unsold,
        unsold_count=unsold_count,
    )
