"""Square tables (migration 0003): typed columns people query, raw JSONB for the rest.

Money is integer minor units (Square's `amount`) plus the currency; quantities are NUMERIC
from Square's decimal strings. This module holds the sales side (orders with their line
items, payments, refunds) and the source's table list; `square_catalog` the rest.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from possync.tables.spec import ChildSpec, Column, DayKey, ReconcileSpec, TableSpec, parent_field
from possync.tables.square_catalog import (
    CATALOG_ITEM_VARIATIONS,
    CATALOG_ITEMS,
    CATEGORIES,
    CUSTOMERS,
    INVENTORY_COUNTS,
    LOCATIONS,
)
from possync.tables.square_fields import first_of, money_column, path_value


def _fee_total(record: dict[str, Any], _parent: dict[str, Any] | None) -> Any:
    """Sum of `processing_fee[].amount_money.amount` (None when Square listed no fee)."""
    fees = record.get("processing_fee")
    if not isinstance(fees, list) or not fees:
        return None
    total = 0
    for fee in fees:
        amount = path_value(fee, "amount_money.amount") if isinstance(fee, dict) else fee
        if not isinstance(amount, int) or isinstance(amount, bool):
            return fee  # not a whole amount: the bigint conversion rejects the record
        total += amount
    return total


def _has_returns(record: dict[str, Any], _parent: dict[str, Any] | None) -> bool:
    returns = record.get("returns")
    return isinstance(returns, list) and bool(returns)


ORDER_LINE_ITEMS = TableSpec(
    "square_order_line_items",
    (
        Column("order_id", "text", required=True, extract=parent_field("id")),
        Column("uid", "text", required=True),
        Column(
            "order_updated_at", "timestamptz", required=True, extract=parent_field("updated_at")
        ),
        Column("name", "text"),
        Column("variation_name", "text"),
        Column("catalog_object_id", "text"),
        Column("catalog_version", "bigint"),
        Column("item_type", "text"),
        Column("quantity", "numeric", required=True),
        Column("note", "text"),
        money_column("base_price_money"),
        money_column("gross_sales_money"),
        money_column("total_tax_money"),
        money_column("total_discount_money"),
        money_column("total_money"),
        Column("currency", "text", path="total_money.currency"),
        Column("deleted_at", "timestamptz"),
    ),
    key=("order_id", "uid"),
    guard=None,  # replaced with the order, guarded by the order's updated_at
    references=(("catalog_object_id", "square_catalog_item_variations"),),
)

_ORDER_MONEY = (
    "total_money",
    "total_tax_money",
    "total_discount_money",
    "total_tip_money",
    "total_service_charge_money",
)


def _amount(money: Any) -> int | None:
    amount = money.get("amount") if isinstance(money, dict) else None
    return amount if isinstance(amount, int) and not isinstance(amount, bool) else None


def check_order_totals(record: dict[str, Any], _row: dict[str, Any]) -> str | None:
    """An order's money is in one currency, and its line items add up to its total: the sum
    of line totals plus tip, order-level service charges and rounding equals `total_money`."""
    total = record.get("total_money")
    currency = total.get("currency") if isinstance(total, dict) else None
    for name in _ORDER_MONEY:
        money = record.get(name)
        if isinstance(money, dict) and money.get("currency") not in (None, currency):
            return f"{name} is in {money.get('currency')} but total_money in {currency}"
    lines = record.get("line_items")
    if not isinstance(lines, list) or not lines:
        return None
    expected = _amount(total)
    if expected is None:
        return "total_money is missing or not an integer amount"
    line_sum = 0
    for line in lines:
        amount = _amount(line.get("total_money") if isinstance(line, dict) else None)
        if amount is None:
            return "a line item's total_money is missing or not an integer amount"
        line_sum += amount
    extras = _amount(record.get("total_tip_money")) or 0
    rounding = record.get("rounding_adjustment")
    if isinstance(rounding, dict):
        extras += _amount(rounding.get("amount_money")) or 0
    for charge in record.get("service_charges") or []:
        # Apportioned charges are already inside the line totals.
        if isinstance(charge, dict) and charge.get("treatment_type") != "APPORTIONED_TREATMENT":
            extras += _amount(charge.get("total_money")) or 0
    if line_sum + extras != expected:
        return f"line items add up to {line_sum + extras} but total_money is {expected}"
    return None


ORDERS = TableSpec(
    "square_orders",
    (
        Column("id", "text", required=True),
        Column("location_id", "text", required=True),
        Column("state", "text", required=True),
        Column("source_name", "text", path="source.name"),
        Column("customer_id", "text"),
        Column("reference_id", "text"),
        Column("ticket_name", "text"),
        Column("is_return", "bool", extract=_has_returns),
        # A return order points at the sale it returns goods from.
        Column("source_order_id", "text", extract=first_of("returns", "source_order_id")),
        Column("currency", "text", path="total_money.currency"),
        money_column("total_money", required=True),
        money_column("total_tax_money"),
        money_column("total_discount_money"),
        money_column("total_tip_money"),
        money_column("total_service_charge_money"),
        money_column("net_total_money", "net_amounts.total_money"),
        money_column("return_total_money", "return_amounts.total_money"),
        Column("version", "bigint"),  # orders made at the register have none
        Column("created_at", "timestamptz", required=True),
        Column("updated_at", "timestamptz", required=True),
        Column("closed_at", "timestamptz"),
        Column("deleted_at", "timestamptz"),
    ),
    guard="updated_at",
    children=(ChildSpec(ORDER_LINE_ITEMS, "line_items", "order_id", "order_updated_at"),),
    check=check_order_totals,
    references=(("location_id", "square_locations"), ("customer_id", "square_customers")),
)

PAYMENTS = TableSpec(
    "square_payments",
    (
        Column("id", "text", required=True),
        Column("location_id", "text"),
        Column("order_id", "text"),
        Column("customer_id", "text"),
        Column("status", "text", required=True),
        Column("source_type", "text"),
        Column("card_brand", "text", path="card_details.card.card_brand"),
        Column("card_last_4", "text", path="card_details.card.last_4"),
        money_column("amount_money", required=True),
        money_column("tip_money"),
        money_column("total_money"),
        money_column("approved_money"),
        money_column("refunded_money"),
        Column("processing_fee_money", "bigint", extract=_fee_total),
        Column("currency", "text", path="amount_money.currency"),
        Column("receipt_number", "text"),
        Column("is_offline_payment", "bool"),
        Column("created_at", "timestamptz", required=True),
        Column("updated_at", "timestamptz", required=True),
        Column("deleted_at", "timestamptz"),
    ),
    guard="updated_at",  # payments carry a version_token, not a number
    references=(("location_id", "square_locations"), ("order_id", "square_orders")),
)

REFUNDS = TableSpec(
    "square_refunds",
    (
        Column("id", "text", required=True),
        Column("payment_id", "text"),
        Column("order_id", "text"),
        Column("location_id", "text"),
        Column("status", "text", required=True),
        Column("reason", "text"),
        Column("destination_type", "text"),
        money_column("amount_money", required=True),
        Column("processing_fee_money", "bigint", extract=_fee_total),
        Column("currency", "text", path="amount_money.currency"),
        Column("created_at", "timestamptz", required=True),
        Column("updated_at", "timestamptz", required=True),
        Column("deleted_at", "timestamptz"),
    ),
    guard="updated_at",
    references=(("payment_id", "square_payments"), ("order_id", "square_orders")),
)

TABLES: dict[str, TableSpec] = {
    "locations": LOCATIONS,
    "categories": CATEGORIES,
    "catalog_items": CATALOG_ITEMS,
    "catalog_item_variations": CATALOG_ITEM_VARIATIONS,
    "customers": CUSTOMERS,
    "orders": ORDERS,
    "inventory_counts": INVENTORY_COUNTS,
    "payments": PAYMENTS,
    "refunds": REFUNDS,
}


def _completed_order_day(
    record: dict[str, Any], zones: dict[str, str]
) -> tuple[DayKey, dict[str, Any]] | None:
    """The location-day and totals a COMPLETED order adds, exactly as
    square_daily_sales_summary counts it: return orders included (with their own totals),
    the local date of `created_at` in the location's zone (UTC when it has none), a missing
    tax or discount as 0."""
    if record.get("state") != "COMPLETED":
        return None
    location = record.get("location_id")
    created_at = record.get("created_at")
    if not isinstance(location, str) or not isinstance(created_at, str):
        return None
    zone = ZoneInfo(zones.get(location) or "UTC")
    moment = datetime.fromisoformat(created_at.replace("Z", "+00:00"))
    local_day = moment.astimezone(zone).date()
    return (location, local_day.isoformat()), {
        "count": 1,
        "total_money": _amount(record.get("total_money")) or 0,
        "total_tax_money": _amount(record.get("total_tax_money")) or 0,
        "total_discount_money": _amount(record.get("total_discount_money")) or 0,
    }


# Locations possync marked deleted (gone from Square's list) cannot be searched: both sides
# leave them out. Orders stored for a location that is not stored at all are never asked of
# Square, so they show as differences (a location is missing).
RECONCILE = ReconcileSpec(
    entity="orders",
    fields=("count", "total_money", "total_tax_money", "total_discount_money"),
    locations_sql="SELECT id, timezone FROM square_locations WHERE deleted_at IS NULL",
    stored_days_sql="""SELECT location_id, business_date::text, sum(order_count)::bigint,
                              sum(total_money)::bigint, sum(total_tax_money)::bigint,
                              sum(total_discount_money)::bigint
                       FROM square_daily_sales_summary
                       WHERE business_date BETWEEN %(first)s AND %(last)s
                         AND location_id NOT IN (
                             SELECT id FROM square_locations WHERE deleted_at IS NOT NULL)
                       GROUP BY location_id, business_date""",
    day_of=_completed_order_day,
)
