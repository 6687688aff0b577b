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

# Stock lines of active, stock-tracked products (not deleted), valued at cost; the totals of
# them all and the lines to reorder in one statement (one pass over the inventory). The sales
# rate is read only for the lines to reorder (their product and outlet, the window's daily
# rollup rows), and names only for the lines listed.
_STOCK = """
WITH lines AS (
    SELECT i.product_id, p.name, i.outlet_id, i.current_amount, i.reorder_point,
           i.reorder_amount,
           round(GREATEST(i.current_amount, 0)
                 * COALESCE(i.average_cost, p.supply_price, 0), 2) AS stock_value,
           i.reorder_point IS NOT NULL AND i.current_amount <= i.reorder_point AS needs_reorder
    FROM lightspeed_inventory i
    JOIN lightspeed_products p ON p.id = i.product_id
    WHERE i.deleted_at IS NULL AND p.deleted_at IS NULL
      AND COALESCE(p.has_inventory, true) AND COALESCE(p.active, true)
), low AS MATERIALIZED (
    SELECT * FROM lines WHERE needs_reorder
), recent AS ({recent}
), listed AS (
    SELECT l.*, COALESCE(r.units_e5, 0) AS units_e5
    FROM low l
    LEFT JOIN recent r ON r.product_id = l.product_id AND r.outlet_id = l.outlet_id
    ORDER BY CASE WHEN COALESCE(r.units_e5, 0) > 0
                  THEN GREATEST(l.current_amount, 0) / r.units_e5 END NULLS LAST,
             l.current_amount, l.name, l.product_id, l.outlet_id
    LIMIT %(limit)s
)
SELECT 'totals', NULL, NULL, NULL, NULL, sum(GREATEST(current_amount, 0)), NULL, NULL,
       COALESCE(sum(stock_value), 0), count(*) FILTER (WHERE needs_reorder), count(*)
FROM lines
UNION ALL
(SELECT 'line', l.product_id, l.name, p.sku, o.name, l.current_amount, l.reorder_point,
        l.reorder_amount, l.stock_value, l.units_e5, NULL
 FROM listed l
 JOIN lightspeed_products p ON p.id = l.product_id
 LEFT JOIN lightspeed_outlets o ON o.id = l.outlet_id
 ORDER BY CASE WHEN l.units_e5 > 0 THEN GREATEST(l.current_amount, 0) / l.units_e5 END
          NULLS LAST, l.current_amount, l.name, l.product_id, l.outlet_id)"""
# The window's units: kept by the refresh when the window ends on the newest day with sales
# (migration 0015), else summed from the daily rollup rows of the lines to reorder.
_KEPT_RATE = """
    SELECT product_key AS product_id, location_id AS outlet_id, units_e5
    FROM analytics_stock_rate WHERE as_of = %(end)s"""
_SUMMED_RATE = """
    SELECT r.product_key AS product_id, r.location_id AS outlet_id, sum(r.units_e5) AS units_e5
    FROM analytics_product_rollup r
    WHERE r.source = 'lightspeed' AND r.business_date BETWEEN %(start)s AND %(end)s
      AND (r.product_key, r.location_id) IN (SELECT product_id, outlet_id FROM low)
    GROUP BY 1, 2"""
_KEPT_AS_OF = "SELECT max(as_of) FROM analytics_stock_rate"


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


def read_stock(
    conn: psycopg.Connection[Any], source: str, period: Period, limit: int | None = None
) -> tuple[StockTotals, list[StockLine]]:
    """Stock value at cost, how many product-outlet lines need reordering, and those lines,
    the ones that run out soonest first (the first `limit`, or all). Lightspeed only."""
    if source != "lightspeed":
        return StockTotals(Decimal(0), 0, 0, Decimal(0)), []
    kept = conn.execute(_KEPT_AS_OF).fetchone()
    rate = _KEPT_RATE if kept and kept[0] == period.end else _SUMMED_RATE
    totals: StockTotals | None = None
    lines = []
    for row in conn.execute(_STOCK.format(recent=rate), {**_window(period), "limit": limit}):
        if row[0] == "totals":
            totals = StockTotals(Decimal(row[8]), int(row[9]), int(row[10]), Decimal(row[5] or 0))
            continue
        lines.append(
            StockLine(
                str(row[1]),
                str(row[2]),
                row[3],
                row[4],
                Decimal(row[5]),
                None if row[6] is None else Decimal(row[6]),
                None if row[7] is None else Decimal(row[7]),
                Decimal(row[8]),
                Decimal(int(row[9])).scaleb(-5).normalize(),
            )
        )
    assert totals is not None  # an aggregate always answers one row
    return totals, lines
