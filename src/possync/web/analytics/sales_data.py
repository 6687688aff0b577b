"""The Sales page's figures, read from the views of migration 0011 (docs/analytics.md).

Each query narrows the UTC timestamp first (an index range: a business date is at most 14 hours
away from UTC, two days either side is safe) and then keeps the exact business dates, so a big
store's page reads only the sales of its range.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
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

_LIGHTSPEED_DAILY = """
SELECT business_date, outlet_id, outlet_name, max(currency),
       count(*) FILTER (WHERE NOT is_return), count(*) FILTER (WHERE is_return),
       sum(net_sales + discounts + returns), sum(discounts), sum(returns), sum(net_sales),
       sum(tax), NULL::numeric, sum(net_sales + tax),
       sum(net_sales) FILTER (WHERE NOT is_return)
FROM lightspeed_sale_facts
WHERE sale_date >= %(lo)s AND sale_date < %(hi)s AND business_date BETWEEN %(start)s AND %(end)s
GROUP BY 1, 2, 3 ORDER BY 1, 3, 2"""

_SQUARE_DAILY = """
SELECT business_date, location_id, location_name, currency,
       count(*) FILTER (WHERE NOT is_return), count(*) FILTER (WHERE is_return),
       sum(gross_sales_money), sum(discounts_money), sum(returns_money),
       sum(gross_sales_money - returns_money - discounts_money), sum(tax_money), sum(tips_money),
       sum(gross_sales_money - returns_money - discounts_money + tax_money + tips_money
           + service_charges_money),
       sum(gross_sales_money - discounts_money) FILTER (WHERE NOT is_return)
FROM square_order_facts
WHERE created_at >= %(lo)s AND created_at < %(hi)s AND business_date BETWEEN %(start)s AND %(end)s
GROUP BY 1, 2, 3, 4 ORDER BY 1, 3, 2"""

# The Sales page reads days, hours and users in one pass over the range (GROUPING SETS):
# the scan and the time-zone conversion of every sale are the cost, so they are paid once.
_LIGHTSPEED_PAGE = """
SELECT GROUPING(local_hour), GROUPING(user_id), business_date, outlet_id, max(outlet_name),
       max(currency),
       count(*) FILTER (WHERE NOT is_return), count(*) FILTER (WHERE is_return),
       sum(net_sales + discounts + returns), sum(discounts), sum(returns), sum(net_sales),
       sum(tax), NULL::numeric, sum(net_sales + tax),
       sum(net_sales) FILTER (WHERE NOT is_return),
       local_hour, user_id
FROM lightspeed_sale_facts
WHERE sale_date >= %(lo)s AND sale_date < %(hi)s AND business_date BETWEEN %(start)s AND %(end)s
GROUP BY GROUPING SETS ((business_date, outlet_id), (local_hour), (user_id))"""

_SQUARE_PAGE = """
SELECT GROUPING(local_hour), 1, business_date, location_id, max(location_name), max(currency),
       count(*) FILTER (WHERE NOT is_return), count(*) FILTER (WHERE is_return),
       sum(gross_sales_money), sum(discounts_money), sum(returns_money),
       sum(gross_sales_money - returns_money - discounts_money), sum(tax_money), sum(tips_money),
       sum(gross_sales_money - returns_money - discounts_money + tax_money + tips_money
           + service_charges_money),
       sum(gross_sales_money - discounts_money) FILTER (WHERE NOT is_return),
       local_hour, NULL::text
FROM square_order_facts
WHERE created_at >= %(lo)s AND created_at < %(hi)s AND business_date BETWEEN %(start)s AND %(end)s
GROUP BY GROUPING SETS ((business_date, location_id), (local_hour))"""

_USER_NAMES = "SELECT id, COALESCE(display_name, username, id) FROM lightspeed_users"

_BREAKDOWNS = {
    ("lightspeed", "payment"): """
        SELECT COALESCE(p.name, 'Unnamed'), count(*), sum(p.amount), max(f.currency)
        FROM lightspeed_sale_facts f
        JOIN lightspeed_sale_payments p ON p.sale_id = f.sale_id AND p.deleted_at IS NULL
        WHERE f.sale_date >= %(lo)s AND f.sale_date < %(hi)s
          AND f.business_date BETWEEN %(start)s AND %(end)s
        GROUP BY 1 ORDER BY 3 DESC, 1""",
    ("square", "payment"): """
        SELECT payment_method, sum(payment_count), sum(amount_money), max(currency)
        FROM square_payment_sales
        WHERE business_date BETWEEN %(start)s AND %(end)s
        GROUP BY 1 ORDER BY 3 DESC, 1""",
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


def query_params(period: Period) -> dict[str, Any]:
    lo = datetime.combine(period.start, time(), UTC) - timedelta(days=2)
    hi = datetime.combine(period.end, time(), UTC) + timedelta(days=3)
    return {"lo": lo, "hi": hi, "start": period.start, "end": period.end}


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
    query = _LIGHTSPEED_DAILY if source == "lightspeed" else _SQUARE_DAILY
    return [_daily_row(source, record) for record in conn.execute(query, query_params(period))]


def read_sales_page(
    conn: psycopg.Connection[Any], source: str, period: Period
) -> tuple[list[dict[str, Any]], dict[str, list[Breakdown]]]:
    """The daily rows and the by-hour and by-user breakdowns, in one pass over the range."""
    query = _LIGHTSPEED_PAGE if source == "lightspeed" else _SQUARE_PAGE
    days: list[dict[str, Any]] = []
    hours: list[Breakdown] = []
    users: list[Breakdown] = []
    names: dict[str, str] = {}
    if source == "lightspeed":
        names = {str(uid): str(name) for uid, name in conn.execute(_USER_NAMES)}
    for record in conn.execute(query, query_params(period)):
        no_hour, no_user, rest = record[0], record[1], record[2:16]
        hour, user_id = record[16], record[17]
        row = _daily_row(source, rest)
        if no_hour and no_user:
            days.append(row)
        elif not no_hour:
            hours.append(Breakdown(f"{hour:02d}:00", row["sales_count"], row["net_sales"]))
        else:
            label = names.get(user_id, user_id) if user_id else "No user"
            users.append(Breakdown(label, row["sales_count"], row["net_sales"]))
    days.sort(key=lambda r: (r["date"], r["location_name"] or "", r["location_id"]))
    hours.sort(key=lambda b: b.label)
    users.sort(key=lambda b: (-(b.amount or 0), b.label))
    breakdowns = {"hour": hours, "user": users} if source == "lightspeed" else {"hour": hours}
    return days, breakdowns


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


def read_breakdown(
    conn: psycopg.Connection[Any], source: str, kind: str, period: Period
) -> list[Breakdown]:
    """Sales by hour, payment method or user; empty where the source has no such data."""
    query = _BREAKDOWNS.get((source, kind))
    if query is None:
        return []
    return [
        Breakdown(str(label), int(count or 0), _units(source, amount, currency))
        for label, count, amount, currency in conn.execute(query, query_params(period))
    ]


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
