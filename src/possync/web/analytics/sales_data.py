"""The Sales page's figures, read from the daily rollups of migration 0012 (the views of 0011
summed per business day and location; docs/analytics.md), so a page reads a few rows per day
whatever the number of sales.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import psycopg

from possync.money import minor_to_units
from possync.web.analytics.money import to_cents
from possync.web.analytics.periods import BadParameter, Period

SOURCES = ("lightspeed", "square")
MONEY_FIELDS = (
    "gross_sales",
    "discounts",
    "returns",
    "net_sales",
    "tax",
    "tips",
    "total_collected",
)

# Names are joined when the page is read, so a renamed outlet shows its new name everywhere.
_LOCATIONS = {"lightspeed": "lightspeed_outlets", "square": "square_locations"}

_DAILY = """
SELECT r.business_date, r.location_id, max(l.name), max(r.currency),
       sum(r.sales_count), sum(r.return_count),
       sum(r.gross_sales), sum(r.discounts), sum(r.returns), sum(r.net_sales), sum(r.tax),
       sum(r.tips), sum(r.total_collected), sum(r.basket_total)
FROM analytics_daily_rollup r
LEFT JOIN {locations} l ON l.id = r.location_id
WHERE r.source = %(source)s AND r.business_date BETWEEN %(start)s AND %(end)s
GROUP BY 1, 2 ORDER BY 1, 3, 2"""

# Hours, users (team members) and payment methods in one read of the range's rollup rows.
_BREAKDOWNS = """
SELECT kind, label, sum(item_count), sum(amount), max(currency)
FROM analytics_breakdown_rollup
WHERE source = %(source)s AND business_date BETWEEN %(start)s AND %(end)s
GROUP BY kind, label"""

_USER_NAMES = {
    "lightspeed": "SELECT id, COALESCE(display_name, username, id) FROM lightspeed_users",
}
BREAKDOWN_TITLES = {
    "hour": "By hour of day",
    "payment": "By payment method",
    "user": "By user (team member)",
}


@dataclass(frozen=True)
class Breakdown:
    """One row of a breakdown table: a label, how many, how much."""

    label: str
    count: int
    amount: Decimal | None


# The newest sale's moment (both columns are indexed, so this reads one index entry).
NEWEST_SALE_SQL = {
    "lightspeed": "SELECT max(sale_date) FROM lightspeed_sales WHERE deleted_at IS NULL",
    "square": "SELECT max(created_at) FROM square_orders WHERE deleted_at IS NULL",
}


def newest_sale_date(conn: psycopg.Connection[Any], source: str, zone: str) -> date | None:
    """The business date (in `zone`) of the newest sale stored, or None when there is none."""
    row = conn.execute(NEWEST_SALE_SQL[source]).fetchone()
    moment = row[0] if row else None
    return None if moment is None else moment.astimezone(ZoneInfo(zone)).date()


def check_source(source: str) -> str:
    if source not in SOURCES:
        raise BadParameter(f"source={source!r} is not known: use lightspeed or square")
    return source


def read_daily_sales(
    conn: psycopg.Connection[Any], source: str, period: Period
) -> list[dict[str, Any]]:
    """One row per business date and location, money in currency units (Decimal).
    `_basket_total` (net sales of the non-return sales) is for averages, not for display."""
    query = _DAILY.format(locations=_LOCATIONS[source])
    return [_daily_row(source, record) for record in conn.execute(query, _params(source, period))]


def read_sales_page(
    conn: psycopg.Connection[Any], source: str, period: Period
) -> tuple[list[dict[str, Any]], dict[str, list[Breakdown]]]:
    """The daily rows and the by-hour, by-user and by-payment breakdowns. The user table is
    there for Lightspeed, and for Square when its orders name a team member."""
    days = read_daily_sales(conn, source, period)
    names: dict[str, str] = {}
    if source in _USER_NAMES:
        names = {str(uid): str(name) for uid, name in conn.execute(_USER_NAMES[source])}
    tables: dict[str, list[Breakdown]] = {"hour": [], "user": [], "payment": []}
    for kind, label, count, amount, currency in conn.execute(_BREAKDOWNS, _params(source, period)):
        if kind == "hour":
            label = f"{label}:00"
        elif kind == "user":
            label = names.get(label, label) if label else "No user"
        tables[kind].append(Breakdown(str(label), int(count), _units(source, amount, currency)))
    tables["hour"].sort(key=lambda b: b.label)
    tables["user"].sort(key=lambda b: (-(b.amount or 0), b.label))
    tables["payment"].sort(key=lambda b: (-(b.amount or 0), b.label))
    if source != "lightspeed" and all(b.label == "No user" for b in tables["user"]):
        del tables["user"]  # Square orders without a team member: no such table
    return days, tables


def _params(source: str, period: Period) -> dict[str, Any]:
    return {"source": source, "start": period.start, "end": period.end}


def _daily_row(source: str, record: Any) -> dict[str, Any]:
    day, location_id, location_name, currency, count, returns_count = record[:6]
    money = [_units(source, value, currency) for value in record[6:13]]
    basket_total = _units(source, record[13], currency)
    return {
        "date": day,
        "location_id": location_id,
        "location_name": location_name,
        "currency": currency,
        "sales_count": int(count),
        "return_count": int(returns_count),
        **dict(zip(MONEY_FIELDS, money, strict=True)),
        "average_sale": _average(basket_total, int(count)),
        "_basket_total": basket_total or Decimal(0),
    }


def total_of(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The range's totals over every row (one currency per store)."""
    total: dict[str, Any] = {"sales_count": 0, "return_count": 0}
    for field in MONEY_FIELDS:
        values = [row[field] for row in rows if row[field] is not None]
        total[field] = sum(values, Decimal(0)) if values else None
    for row in rows:
        total["sales_count"] += row["sales_count"]
        total["return_count"] += row["return_count"]
    basket = sum((r["_basket_total"] for r in rows), Decimal(0))
    total["average_sale"] = _average(basket, total["sales_count"])
    total["currency"] = single_currency(rows)
    return total


def single_currency(rows: list[dict[str, Any]]) -> str | None:
    currencies = {row["currency"] for row in rows if row.get("currency")}
    return currencies.pop() if len(currencies) == 1 else None


def _units(source: str, value: Any, currency: str | None) -> Decimal | None:
    if value is None:
        return None
    if source == "square":
        return minor_to_units(int(value), currency)
    return Decimal(value)


def _average(total: Decimal | None, count: int) -> Decimal | None:
    if total is None or count == 0:
        return None
    return to_cents(total / count)
