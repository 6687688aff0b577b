"""The Products page's figures: every product's units, net sales, cost and margin in a range,
categories rolled up from them, and products with stock that have not sold for N days."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import psycopg

from possync.money import minor_to_units
from possync.web.analytics.blocks import signed_blocks
from possync.web.analytics.periods import Period

# Every product's sums over the range, from the range's signed calendar blocks (blocks.py):
# a block's rows times its sign, added up per product. A product is in the range when it has
# daily rows there (`day_rows`), even if its sums come to zero.
_SOLD = """
WITH parts AS (
    SELECT r.product_key, {names} r.units_e5 * b.sign AS units_e5,
           r.net_sales_e5 * b.sign AS net_sales_e5, r.cost_e5 * b.sign AS cost_e5,
           r.sold_lines * b.sign AS sold_lines, b.sign::bigint AS day_rows
    FROM unnest(%(days)s::date[], %(day_signs)s::int[]) AS b (start, sign)
    JOIN analytics_product_rollup r ON r.source = %(source)s AND r.business_date = b.start
    UNION ALL
    SELECT r.product_key, {names} r.units_e5 * b.sign, r.net_sales_e5 * b.sign,
           r.cost_e5 * b.sign, r.sold_lines * b.sign, r.day_rows * b.sign
    FROM unnest(%(months)s::date[], %(month_signs)s::int[]) AS b (start, sign)
    JOIN analytics_product_month_rollup r ON r.source = %(source)s AND r.month = b.start
    UNION ALL
    SELECT r.product_key, {names} r.units_e5 * b.sign, r.net_sales_e5 * b.sign,
           r.cost_e5 * b.sign, r.sold_lines * b.sign, r.day_rows * b.sign
    FROM unnest(%(years)s::date[], %(year_signs)s::int[]) AS b (start, sign)
    JOIN analytics_product_year_rollup r ON r.source = %(source)s AND r.year = b.start
), sold AS (
    SELECT product_key, {name_sums} sum(units_e5) AS units, sum(net_sales_e5) AS net_sales,
           sum(cost_e5) AS cost, sum(sold_lines) AS sold_lines
    FROM parts GROUP BY product_key HAVING sum(day_rows) > 0
)"""
_SOLD_LIGHTSPEED = _SOLD.format(names="", name_sums="")
# Square's names come from its lines: those of the blocks added (a subtracted day's are not
# the range's).
_SOLD_SQUARE = _SOLD.format(
    names="r.product_name, r.currency,",
    name_sums="max(product_name) FILTER (WHERE day_rows > 0) AS name, max(currency) AS currency,",
)
# Each sold product with its name, SKU and category, in one row format for both sources:
# key, name, sku, category, units_e5, net_sales_e5, cost_e5, currency, sold_lines.
NAMED = {
    "lightspeed": _SOLD_LIGHTSPEED
    + """, named AS (
    SELECT s.product_key, COALESCE(p.name, s.product_key, 'No product') AS name, p.sku,
           COALESCE(c.name, 'Uncategorised') AS category, s.units, s.net_sales, s.cost,
           NULL::text AS currency, s.sold_lines
    FROM sold s
    -- Every product at once (a hash join): `sold` looks like a few rows to the planner, which
    -- would otherwise look thousands of products up one by one (measured 2× slower).
    LEFT JOIN (SELECT id, name, sku, product_category_id FROM lightspeed_products OFFSET 0) p
      ON p.id = s.product_key
    LEFT JOIN lightspeed_product_categories c ON c.id = p.product_category_id
)""",
    "square": _SOLD_SQUARE
    + """, named AS (
    SELECT s.product_key, s.name, v.sku, COALESCE(c.name, 'Uncategorised') AS category,
           s.units, s.net_sales, NULL::bigint AS cost, s.currency, s.sold_lines
    FROM sold s
    LEFT JOIN square_catalog_item_variations v ON v.id = s.product_key
    LEFT JOIN square_catalog_items i ON i.id = v.item_id
    LEFT JOIN square_categories c ON c.id = i.category_id
)""",
}

# The dates that hold product rows (both ends of an index): blocks outside cost nothing.
_DATA_DATES = """
SELECT min(business_date), max(business_date) FROM analytics_product_rollup WHERE source = %s"""


def block_params(conn: psycopg.Connection[Any], source: str, period: Period) -> dict[str, Any]:
    """The query parameters of `period`'s signed blocks for the `NAMED` sums."""
    row = conn.execute(_DATA_DATES, [source]).fetchone()
    data = Period(row[0], row[1]) if row and row[0] is not None else None
    params: dict[str, Any] = {"source": source}
    every = signed_blocks(period, data)
    for level, name in (("day", "days"), ("month", "months"), ("year", "years")):
        blocks = [b for b in every if b.level == level]
        params[name] = [b.start for b in blocks]
        params[f"{level}_signs"] = [b.sign for b in blocks]
    return params


# Active stock-tracked products with stock on hand that sold nothing in the window (the
# products of `sold`, the window's sums, with a line sold), with the last date they sold.
UNSOLD = """, unsold AS MATERIALIZED (  -- the few products not sold, before their stock
    SELECT p.id, p.name, p.sku
    FROM lightspeed_products p
    WHERE p.deleted_at IS NULL AND COALESCE(p.active, true) AND COALESCE(p.has_inventory, true)
      AND NOT EXISTS (SELECT 1 FROM sold s WHERE s.product_key = p.id AND s.sold_lines > 0)
), unsold_stock AS (
    SELECT u.*, (SELECT sum(GREATEST(i.current_amount, 0)) FROM lightspeed_inventory i
                  WHERE i.product_id = u.id AND i.deleted_at IS NULL) AS on_hand
    FROM unsold u
), unsold_listed AS (
    SELECT u.id, u.name, u.sku, u.on_hand, count(*) OVER () AS total,
           (SELECT max(r.business_date) FROM analytics_product_rollup r
             WHERE r.source = 'lightspeed' AND r.product_key = u.id AND r.sold_lines > 0
               AND r.business_date <= %(end)s) AS last_sold
    FROM unsold_stock u
    WHERE u.on_hand > 0
    ORDER BY last_sold NULLS FIRST, u.name COLLATE "C", COALESCE(u.sku, '') COLLATE "C",
             u.id COLLATE "C"
    LIMIT %(limit)s
)"""
UNSOLD_ROWS = """
SELECT id, name, sku, on_hand, total, last_sold FROM unsold_listed
ORDER BY last_sold NULLS FIRST, name COLLATE "C", COALESCE(sku, '') COLLATE "C", id COLLATE "C"
"""


@dataclass(frozen=True)
class ProductFigures:
    """A product's (or a category's) sales in the range. Cost and margin only where the POS
    gives cost (Lightspeed); net sales are tax exclusive, after discounts, returns subtracted."""

    key: str
    name: str
    sku: str | None
    category: str
    units: Decimal
    net_sales: Decimal
    cost: Decimal | None
    sold_lines: int = 0  # lines with a positive quantity (returns not counted)

    @property
    def margin(self) -> Decimal | None:
        return None if self.cost is None else self.net_sales - self.cost

    @property
    def margin_percent(self) -> Decimal | None:
        if self.margin is None or self.net_sales <= 0:
            return None  # a percentage of nothing (or of a refund) means nothing
        return (self.margin * 100 / self.net_sales).quantize(Decimal("0.1"))


@dataclass(frozen=True)
class UnsoldProduct:
    product_id: str
    name: str
    sku: str | None
    on_hand: Decimal
    last_sold: Any


def read_products(
    conn: psycopg.Connection[Any], source: str, period: Period
) -> list[ProductFigures]:
    """Every product that sold (or was returned) in the range, best sellers first."""
    query = NAMED[source] + " SELECT * FROM named"
    params = block_params(conn, source, period)
    products = [figures_of(source, row) for row in conn.execute(query, params)]
    products.sort(key=best_first)
    return products


# Products in order, ties broken down to the key, so that every reading lists them alike
# (variants share a name and often a price); SQL orders names as Python does (COLLATE "C").
BEST_FIRST_SQL = (
    """net_sales DESC, name COLLATE "C", COALESCE(sku, '') COLLATE "C", """
    """COALESCE(product_key, 'None') COLLATE "C" """
)
WORST_FIRST_SQL = BEST_FIRST_SQL.replace("DESC", "ASC")


def best_first(product: ProductFigures) -> tuple[Decimal, str, str, str]:
    return (-product.net_sales, product.name, product.sku or "", product.key)


def worst_first(product: ProductFigures) -> tuple[Decimal, str, str, str]:
    return (product.net_sales, product.name, product.sku or "", product.key)


def figures_of(source: str, row: Any) -> ProductFigures:
    """A `named` row as figures: integers of 1e-5 as exact decimals, Square's in its currency."""
    key, name, sku, category, units, net, cost, currency, sold_lines = row
    net_sales = _from_e5(net)
    if source == "square":  # whole minor units
        net_sales = minor_to_units(int(net_sales), currency) or Decimal(0)
    return ProductFigures(
        key=str(key),
        name=str(name),
        sku=sku,
        category=str(category),
        units=_from_e5(units).normalize(),
        net_sales=net_sales,
        cost=None if cost is None else _from_e5(cost),
        sold_lines=int(sold_lines),
    )


def _from_e5(value: Any) -> Decimal:
    """A rollup's integer of 1e-5 as the exact decimal (Lightspeed's five decimals kept)."""
    return Decimal(int(value)).scaleb(-5)


def roll_up_categories(products: list[ProductFigures]) -> list[ProductFigures]:
    """Categories' totals from their products, best first."""
    grouped: dict[str, list[ProductFigures]] = defaultdict(list)
    for product in products:
        grouped[product.category].append(product)
    categories = []
    for name, members in grouped.items():
        costs = [p.cost for p in members]
        first = replace(members[0], key=name, name=name, sku=None)
        categories.append(
            replace(
                first,
                units=sum((p.units for p in members), Decimal(0)),
                net_sales=sum((p.net_sales for p in members), Decimal(0)),
                cost=None if None in costs else sum((c or Decimal(0) for c in costs), Decimal(0)),
            )
        )
    categories.sort(key=lambda c: (-c.net_sales, c.name))
    return categories


def read_unsold(
    conn: psycopg.Connection[Any], source: str, period: Period, days: int, limit: int = 500
) -> tuple[list[UnsoldProduct], int]:
    """Products with stock that sold nothing in the `days` up to the range's end, oldest
    last sale first, and how many there are (Lightspeed; Square's counts have no
    product-level stock flag synced yet, so none for Square)."""
    if source != "lightspeed":
        return [], 0
    window = unsold_window(period, days)
    params = {**block_params(conn, source, window), "end": window.end, "limit": limit}
    query = _SOLD_LIGHTSPEED + UNSOLD + UNSOLD_ROWS
    rows = conn.execute(query, params).fetchall()
    return [unsold_of(row) for row in rows], int(rows[0][4]) if rows else 0


def unsold_window(period: Period, days: int) -> Period:
    return Period(period.end - timedelta(days=days - 1), period.end)


def oldest_sale_first(product: UnsoldProduct) -> tuple[bool, date, str, str, str]:
    """The order of UNSOLD_ROWS: never sold first, then the oldest last sale."""
    last = product.last_sold or date.min
    sold = product.last_sold is not None
    return (sold, last, product.name, product.sku or "", product.product_id)


def unsold_of(row: Any) -> UnsoldProduct:
    """An `unsold_listed` row (id, name, sku, on hand, total, last sold)."""
    pid, name, sku, on_hand, _total, last_sold = row
    return UnsoldProduct(str(pid), str(name), sku, Decimal(on_hand), last_sold)
