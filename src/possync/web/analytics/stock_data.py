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

# The stock lines (analytics_stock_lines, migration 0015: active stock-tracked products, valued
# at cost, the window's units sold for the lines to reorder): their totals and the lines to
# reorder that run out soonest first, in one statement; outlet names joined when read.
_LIVE = """
WITH lines AS MATERIALIZED (
    SELECT * FROM analytics_stock_lines(%(start)s, %(end)s, %(kept_rate)s)
), listed AS (
    SELECT * FROM lines WHERE needs_reorder
    ORDER BY CASE WHEN units_e5 > 0 THEN GREATEST(current_amount, 0) / units_e5 END NULLS LAST,
             current_amount, name, product_id, outlet_id
    LIMIT %(limit)s
)
SELECT 'totals', NULL, NULL, NULL, NULL, COALESCE(sum(GREATEST(current_amount, 0)), 0),
       NULL, NULL, COALESCE(sum(stock_value), 0), count(*) FILTER (WHERE needs_reorder), count(*)
FROM lines
UNION ALL
(SELECT 'line', l.product_id, l.name, l.sku, o.name, l.current_amount, l.reorder_point,
        l.reorder_amount, l.stock_value, l.units_e5, NULL
 FROM listed l LEFT JOIN lightspeed_outlets o ON o.id = l.outlet_id
 ORDER BY CASE WHEN l.units_e5 > 0 THEN GREATEST(l.current_amount, 0) / l.units_e5 END
          NULLS LAST, l.current_amount, l.name, l.product_id, l.outlet_id)"""
# The same as the refresh left it for the window ending on the newest day with sales.
_SNAPSHOT = """
SELECT 'totals', NULL, NULL, NULL, NULL, units_on_hand, NULL, NULL, stock_value, to_reorder,
       stock_lines
FROM analytics_stock_summary WHERE as_of = %(end)s
UNION ALL
(SELECT 'line', r.product_id, r.name, r.sku, o.name, r.current_amount, r.reorder_point,
        r.reorder_amount, r.stock_value, r.units_e5, NULL
 FROM analytics_stock_reorder r LEFT JOIN lightspeed_outlets o ON o.id = r.outlet_id
 WHERE r.as_of = %(end)s ORDER BY r.position LIMIT %(limit)s)"""
# What the refresh keeps (the window's last day, of the rate and of the snapshot) and
# whether the inventory changed since.
_KEPT = """
SELECT (SELECT max(as_of) FROM analytics_stock_rate),
       (SELECT max(as_of) FROM analytics_stock_summary),
       EXISTS (SELECT 1 FROM analytics_stale_days WHERE source = 'lightspeed-stock')"""


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
    kept = conn.execute(_KEPT).fetchone()
    assert kept is not None
    rate_as_of, snapshot_as_of, stock_changed = kept
    use_snapshot = snapshot_as_of == period.end and not stock_changed
    params = {**_window(period), "limit": limit, "kept_rate": rate_as_of == period.end}
    totals: StockTotals | None = None
    lines = []
    for row in conn.execute(_SNAPSHOT if use_snapshot else _LIVE, params):
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
