"""Square tables (migration 0003): typed columns people query, raw JSONB for the rest.

Money is integer minor units (Square's `amount`) plus the currency; quantities are NUMERIC
from Square's decimal strings. Catalog objects deleted at Square keep their row with
`deleted_at` = the deletion time (Square sets `updated_at` to it).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from possync.tables.spec import (
    ChildSpec,
    Column,
    DayKey,
    Extractor,
    ReconcileSpec,
    TableSpec,
    parent_field,
)


def _path_value(record: dict[str, Any], path: str) -> Any:
    value: Any = record
    for key in path.split("."):
        value = value.get(key) if isinstance(value, dict) else None
    return value


def _first_of(list_path: str, key: str, fallback: str | None = None) -> Extractor:
    """`key` of the first object in a nested list (an item's first category, a return
    order's source order), else the value at `fallback`."""

    def extract(record: dict[str, Any], _parent: dict[str, Any] | None) -> Any:
        items = _path_value(record, list_path)
        if isinstance(items, list) and items and isinstance(items[0], dict):
            return items[0].get(key)
        return _path_value(record, fallback) if fallback else None

    return extract


def _deleted_at(record: dict[str, Any], _parent: dict[str, Any] | None) -> Any:
    """Square marks a deleted catalog object `is_deleted`; its `updated_at` is the deletion."""
    return record.get("updated_at") if record.get("is_deleted") is True else None


def _fee_total(record: dict[str, Any], _parent: dict[str, Any] | None) -> Any:
    """Sum of `processing_fee[].amount_money.amount` (None when Square listed no fee)."""
    fees = record.get("processing_fee")
    if not isinstance(fees, list) or not fees:
        return None
    total = 0
    for fee in fees:
        amount = _path_value(fee, "amount_money.amount") if isinstance(fee, dict) else fee
        if not isinstance(amount, int) or isinstance(amount, bool):
            return fee  # not a whole amount: the bigint conversion rejects the record
        total += amount
    return total


def _has_returns(record: dict[str, Any], _parent: dict[str, Any] | None) -> bool:
    returns = record.get("returns")
    return isinstance(returns, list) and bool(returns)


def _money(name: str, path: str | None = None, *, required: bool = False) -> Column:
    """An integer minor-units column from a Money object's `amount`."""
    return Column(name, "bigint", path=f"{path or name}.amount", required=required)


_CATALOG_TAIL = (
    Column("present_at_all_locations", "bool"),
    Column("is_deleted", "bool"),
    Column("version", "bigint", required=True),
    Column("updated_at", "timestamptz", required=True),
    Column("deleted_at", "timestamptz", extract=_deleted_at),
)

LOCATIONS = TableSpec(
    "square_locations",
    (
        Column("id", "text", required=True),
        Column("name", "text"),
        Column("business_name", "text"),
        Column("status", "text"),
        Column("type", "text"),
        Column("timezone", "text"),
        Column("currency", "text"),
        Column("country", "text"),
        Column("language_code", "text"),
        Column("merchant_id", "text"),
        Column("address_line_1", "text", path="address.address_line_1"),
        Column("locality", "text", path="address.locality"),
        Column("region", "text", path="address.administrative_district_level_1"),
        Column("postal_code", "text", path="address.postal_code"),
        Column("phone_number", "text"),
        Column("created_at", "timestamptz"),
        Column("deleted_at", "timestamptz"),  # set by possync when a location disappears
    ),
    guard=None,  # no version or updated_at: every run is a full snapshot
)

CATEGORIES = TableSpec(
    "square_categories",
    (
        Column("id", "text", required=True),
        Column("name", "text", path="category_data.name"),
        Column("category_type", "text", path="category_data.category_type"),
        Column("parent_category_id", "text", path="category_data.parent_category.id"),
        Column("is_top_level", "bool", path="category_data.is_top_level"),
        Column("present_at_all_locations", "bool"),
        Column("version", "bigint"),
        Column("updated_at", "timestamptz"),
        Column("deleted_at", "timestamptz", extract=_deleted_at),
    ),
    guard=None,  # read in full every run (ListCatalog): a category missing from it is gone
)

CATALOG_ITEMS = TableSpec(
    "square_catalog_items",
    (
        Column("id", "text", required=True),
        Column("name", "text", path="item_data.name"),
        Column("description", "text", path="item_data.description"),
        Column(
            "category_id",
            "text",
            extract=_first_of("item_data.categories", "id", "item_data.category_id"),
        ),
        Column("reporting_category_id", "text", path="item_data.reporting_category.id"),
        Column("product_type", "text", path="item_data.product_type"),
        Column("is_taxable", "bool", path="item_data.is_taxable"),
        Column("is_archived", "bool", path="item_data.is_archived"),
        Column("tax_ids", "jsonb", path="item_data.tax_ids"),
        *_CATALOG_TAIL,
    ),
    references=(("category_id", "square_categories"),),
)

CATALOG_ITEM_VARIATIONS = TableSpec(
    "square_catalog_item_variations",
    (
        Column("id", "text", required=True),
        Column("item_id", "text", path="item_variation_data.item_id"),
        Column("name", "text", path="item_variation_data.name"),
        Column("sku", "text", path="item_variation_data.sku"),
        Column("upc", "text", path="item_variation_data.upc"),
        Column("ordinal", "int", path="item_variation_data.ordinal"),
        Column("pricing_type", "text", path="item_variation_data.pricing_type"),
        _money("price_money", "item_variation_data.price_money"),
        Column("currency", "text", path="item_variation_data.price_money.currency"),
        Column("track_inventory", "bool", path="item_variation_data.track_inventory"),
        Column("sellable", "bool", path="item_variation_data.sellable"),
        Column("stockable", "bool", path="item_variation_data.stockable"),
        *_CATALOG_TAIL,
    ),
    references=(("item_id", "square_catalog_items"),),
)

CUSTOMERS = TableSpec(
    "square_customers",
    (
        Column("id", "text", required=True),
        Column("given_name", "text"),
        Column("family_name", "text"),
        Column("nickname", "text"),
        Column("company_name", "text"),
        Column("email_address", "text"),
        Column("phone_number", "text"),
        Column("reference_id", "text"),
        Column("note", "text"),
        Column("birthday", "text"),  # "0000-MM-DD" means no year: not a DATE
        Column("creation_source", "text"),
        Column("email_unsubscribed", "bool", path="preferences.email_unsubscribed"),
        Column("group_ids", "jsonb"),
        Column("version", "bigint", required=True),
        Column("created_at", "timestamptz"),
        Column("updated_at", "timestamptz", required=True),
        Column("deleted_at", "timestamptz"),
    ),
)

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
        _money("base_price_money"),
        _money("gross_sales_money"),
        _money("total_tax_money"),
        _money("total_discount_money"),
        _money("total_money"),
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
        Column("source_order_id", "text", extract=_first_of("returns", "source_order_id")),
        Column("currency", "text", path="total_money.currency"),
        _money("total_money", required=True),
        _money("total_tax_money"),
        _money("total_discount_money"),
        _money("total_tip_money"),
        _money("total_service_charge_money"),
        _money("net_total_money", "net_amounts.total_money"),
        _money("return_total_money", "return_amounts.total_money"),
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

INVENTORY_COUNTS = TableSpec(
    "square_inventory_counts",
    (
        Column("catalog_object_id", "text", required=True),
        Column("location_id", "text", required=True),
        Column("state", "text", required=True),
        Column("catalog_object_type", "text"),
        Column("quantity", "numeric", required=True),
        Column("is_estimated", "bool"),
        Column("calculated_at", "timestamptz", required=True),
        Column("deleted_at", "timestamptz"),
    ),
    key=("catalog_object_id", "location_id", "state"),
    guard="calculated_at",
    references=(
        ("catalog_object_id", "square_catalog_item_variations"),
        ("location_id", "square_locations"),
    ),
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
        _money("amount_money", required=True),
        _money("tip_money"),
        _money("total_money"),
        _money("approved_money"),
        _money("refunded_money"),
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
        _money("amount_money", required=True),
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

# sync_state rows kept current alongside a parent entity.
CHILD_ENTITIES: dict[str, tuple[str, ...]] = {"orders": ("order_line_items",)}


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
