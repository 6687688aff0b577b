"""The Products page's figures: every product's units, net sales, cost and margin in a range,
categories rolled up from them, and products with stock that have not sold for N days."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import timedelta
from decimal import Decimal
from typing import Any

import psycopg

from possync.money import minor_to_units
from possync.web.analytics.periods import Period

# The range's whole months come from the monthly rollup, the days around them from the daily
# one; summed per product first, then named.
_SOLD = """
WITH parts AS (
    SELECT product_key, {names} units_e5, net_sales_e5, cost_e5, sold_lines
    FROM analytics_product_month_rollup
    WHERE source = %(source)s AND month = ANY(%(months)s)
    UNION ALL
    SELECT product_key, {names} units_e5, net_sales_e5, cost_e5, sold_lines
    FROM analytics_product_rollup
    WHERE source = %(source)s AND business_date BETWEEN %(start1)s AND %(end1)s
    UNION ALL  -- two branches, not an OR: each is an index range
    SELECT product_key, {names} units_e5, net_sales_e5, cost_e5, sold_lines
    FROM analytics_product_rollup
    WHERE source = %(source)s AND business_date BETWEEN %(start2)s AND %(end2)s
), sold AS (
    SELECT product_key, {name_sums} sum(units_e5) AS units, sum(net_sales_e5) AS net_sales,
           sum(cost_e5) AS cost, sum(sold_lines) AS sold_lines
    FROM parts GROUP BY product_key
)
"""
# Lightspeed names its products from the catalog: no text to carry through the sums.
_LIGHTSPEED_PRODUCTS = (
    _SOLD.format(names="", name_sums="")
    + """
SELECT s.product_key, COALESCE(p.name, s.product_key, 'No product'), p.sku,
       COALESCE(c.name, 'Uncategorised'), s.units, s.net_sales, s.cost, NULL::text,
       s.sold_lines
FROM sold s
LEFT JOIN lightspeed_products p ON p.id = s.product_key
LEFT JOIN lightspeed_product_categories c ON c.id = p.product_category_id"""
)

# Square: returned items are subtracted (negative units and money on the return's date).
_SQUARE_PRODUCTS = (
    _SOLD.format(
        names="product_name, currency,",
        name_sums="max(product_name) AS name, max(currency) AS currency,",
    )
    + """
SELECT s.product_key, s.name, v.sku, COALESCE(c.name, 'Uncategorised'), s.units, s.net_sales,
       NULL::numeric, s.currency, s.sold_lines
FROM sold s
LEFT JOIN square_catalog_item_variations v ON v.id = s.product_key
LEFT JOIN square_catalog_items i ON i.id = v.item_id
LEFT JOIN square_categories c ON c.id = i.category_id"""
)


def _sold_params(source: str, period: Period) -> dict[str, Any]:
    """The range as whole months and up to two runs of days (an empty run: end before start)."""
    months, edges = period.whole_months()
    nothing = Period(period.end, period.start - timedelta(days=1))
    runs = [*edges, nothing, nothing][:2]
    return {
        "source": source,
        "months": months,
        "start1": runs[0].start,
        "end1": runs[0].end,
        "start2": runs[1].start,
        "end2": runs[1].end,
    }


# Active stock-tracked products with stock on hand that sold nothing in the window, oldest
# last sale first; {not_sold} says how a product is known not to have sold.
_LIGHTSPEED_UNSOLD_TEMPLATE = """
SELECT p.id, p.name, p.sku, sum(GREATEST(i.current_amount, 0)) AS on_hand,
       (SELECT max(r.business_date) FROM analytics_product_rollup r
         WHERE r.source = 'lightspeed' AND r.product_key = p.id AND r.sold_lines > 0
           AND r.business_date <= %(end)s) AS last_sold
FROM lightspeed_products p
JOIN lightspeed_inventory i ON i.product_id = p.id AND i.deleted_at IS NULL
WHERE p.deleted_at IS NULL AND COALESCE(p.active, true) AND COALESCE(p.has_inventory, true)
  AND {not_sold}
GROUP BY p.id, p.name, p.sku
HAVING sum(GREATEST(i.current_amount, 0)) > 0
ORDER BY last_sold NULLS FIRST, p.name
LIMIT %(limit)s"""
_LIGHTSPEED_UNSOLD = _LIGHTSPEED_UNSOLD_TEMPLATE.format(
    not_sold="""NOT EXISTS (
      SELECT 1 FROM analytics_product_rollup r
      WHERE r.source = 'lightspeed' AND r.product_key = p.id AND r.sold_lines > 0
        AND r.business_date BETWEEN %(start)s AND %(end)s)"""
)
# The same when the window is the page's range: the products sold in it are already known.
# (An anti-join on the list, hashed: `NOT (p.id = ANY(list))` compares every product with every
# sold one.)
_LIGHTSPEED_UNSOLD_AMONG = _LIGHTSPEED_UNSOLD_TEMPLATE.format(
    not_sold="NOT EXISTS (SELECT 1 FROM unnest(%(sold)s::text[]) AS sold (id) WHERE sold.id = p.id)"
)


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
    query = _LIGHTSPEED_PRODUCTS if source == "lightspeed" else _SQUARE_PRODUCTS
    products = []
    for key, name, sku, category, units, net, cost, currency, sold_lines in conn.execute(
        query, _sold_params(source, period)
    ):
        net = _from_e5(net)
        if source == "square":
            net = minor_to_units(int(net), currency)  # whole minor units
        products.append(
            ProductFigures(
                key=str(key),
                name=str(name),
                sku=sku,
                category=str(category),
                units=_from_e5(units).normalize(),
                net_sales=net,
                cost=None if cost is None else _from_e5(cost),
                sold_lines=int(sold_lines),
            )
        )
    products.sort(key=lambda p: (-p.net_sales, p.name))
    return products


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
    conn: psycopg.Connection[Any],
    source: str,
    period: Period,
    days: int,
    *,
    sold_in_range: set[str] | None = None,
    limit: int = 500,
) -> list[UnsoldProduct]:
    """Products with stock that sold nothing in the `days` up to the range's end (Lightspeed;
    Square's counts have no product-level stock flag synced yet, so none for Square).
    `sold_in_range`: the products sold in `period`, when the window is exactly that range."""
    if source != "lightspeed":
        return []
    window = Period(period.end - timedelta(days=days - 1), period.end)
    params: dict[str, Any] = {"start": window.start, "end": window.end, "limit": limit}
    query = _LIGHTSPEED_UNSOLD
    if sold_in_range is not None and window == period:
        query = _LIGHTSPEED_UNSOLD_AMONG
        params["sold"] = sorted(sold_in_range)
    return [
        UnsoldProduct(str(pid), str(name), sku, Decimal(on_hand), last_sold)
        for pid, name, sku, on_hand, last_sold in conn.execute(query, params)
    ]
