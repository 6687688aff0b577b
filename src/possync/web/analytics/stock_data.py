"""The Stock page's figures: stock value at cost, what to reorder, and days of cover from the
units sold in the 28 days up to the range's end (Lightspeed, which has reorder points and cost)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

import psycopg

from possync.web.analytics.periods import Period

RATE_DAYS = 28

# Stock lines of active, stock-tracked products (not deleted), valued at cost.
_STOCK = """
WITH stock AS (
    SELECT i.product_id, p.name, p.sku, i.outlet_id, o.name AS outlet_name,
           i.current_amount, i.reorder_point, i.reorder_amount,
           round(GREATEST(i.current_amount, 0)
                 * COALESCE(i.average_cost, p.supply_price, 0), 2) AS stock_value,
           i.reorder_point IS NOT NULL AND i.current_amount <= i.reorder_point AS needs_reorder
    FROM lightspeed_inventory i
    JOIN lightspeed_products p ON p.id = i.product_id
    LEFT JOIN lightspeed_outlets o ON o.id = i.outlet_id
    WHERE i.deleted_at IS NULL AND p.deleted_at IS NULL
      AND COALESCE(p.has_inventory, true) AND COALESCE(p.active, true)
)
"""
_TOTALS = (
    _STOCK
    + """
SELECT COALESCE(sum(stock_value), 0), count(*) FILTER (WHERE needs_reorder), count(*),
       sum(GREATEST(current_amount, 0)) FROM stock"""
)
# The sales rate only of the lines to reorder: the window's rollup rows of their products.
_REORDER = (
    _STOCK
    + """, low AS (
    SELECT * FROM stock WHERE needs_reorder
), recent AS (
    SELECT product_key AS product_id, location_id AS outlet_id,
           sum(units_e5)::numeric / 100000 AS units
    FROM analytics_product_rollup
    WHERE source = 'lightspeed' AND business_date BETWEEN %(start)s AND %(end)s
      AND product_key IN (SELECT product_id FROM low)
    GROUP BY 1, 2
)
SELECT l.product_id, l.name, l.sku, l.outlet_name, l.current_amount, l.reorder_point,
       l.reorder_amount, l.stock_value, COALESCE(r.units, 0) AS units_sold
FROM low l
LEFT JOIN recent r ON r.product_id = l.product_id AND r.outlet_id = l.outlet_id
ORDER BY CASE WHEN COALESCE(r.units, 0) > 0
              THEN GREATEST(l.current_amount, 0) / r.units END NULLS LAST,
         l.current_amount, l.name
LIMIT %(limit)s"""
)


@dataclass(frozen=True)
class StockLine:
    product_id: str
    name: str
    sku: str | None
    outlet_name: str | None
    on_hand: Decimal
    reorder_point: Decimal | None
    reorder_amount: Decimal | None
    stock_value: Decimal
    units_sold_28d: Decimal

    @property
    def days_of_cover(self) -> Decimal | None:
        """Days the stock on hand lasts at the last 28 days' rate (None: nothing sold)."""
        if self.units_sold_28d <= 0:
            return None
        on_hand = max(self.on_hand, Decimal(0))
        return (on_hand * RATE_DAYS / self.units_sold_28d).quantize(Decimal("0.1"))


@dataclass(frozen=True)
class StockTotals:
    stock_value: Decimal
    to_reorder: int
    stock_lines: int
    units_on_hand: Decimal


def _window(period: Period) -> dict[str, Any]:
    window = Period(period.end - timedelta(days=RATE_DAYS - 1), period.end)
    return {"start": window.start, "end": window.end}


def read_stock_totals(conn: psycopg.Connection[Any], source: str, period: Period) -> StockTotals:
    """Stock value at cost and how many product-outlet lines need reordering (Lightspeed)."""
    if source != "lightspeed":
        return StockTotals(Decimal(0), 0, 0, Decimal(0))
    row = conn.execute(_TOTALS).fetchone()
    assert row is not None  # an aggregate always answers one row
    return StockTotals(Decimal(row[0]), int(row[1]), int(row[2]), Decimal(row[3] or 0))


def read_reorder(
    conn: psycopg.Connection[Any], source: str, period: Period, limit: int | None = None
) -> list[StockLine]:
    """Stock at or under its reorder point, the ones that run out soonest first."""
    if source != "lightspeed":
        return []
    params = {**_window(period), "limit": limit}
    return [
        StockLine(
            str(row[0]),
            str(row[1]),
            row[2],
            row[3],
            Decimal(row[4]),
            None if row[5] is None else Decimal(row[5]),
            None if row[6] is None else Decimal(row[6]),
            Decimal(row[7]),
            Decimal(row[8]),
        )
        for row in conn.execute(_REORDER, params)
    ]
