"""Lightspeed X-Series tables (migration 0002): typed columns people query, raw JSONB for the
rest. Money is NUMERIC, exactly as the API sent it."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from possync.tables.spec import ChildSpec, Column, ReconcileSpec, TableSpec, parent_field

# Sale totals are rounded to 2 dp while lines keep up to 10: the sum of rounded lines may
# differ from the sale total by half a cent per line at most; we allow a cent plus that.
LINE_TOTAL_TOLERANCE = Decimal("0.01")
LINE_TOTAL_TOLERANCE_PER_LINE = Decimal("0.005")

_COMMON_TAIL = (
    Column("version", "bigint", required=True),
    Column("deleted_at", "timestamptz"),
)

OUTLETS = TableSpec(
    "lightspeed_outlets",
    (
        Column("id", "text", required=True),
        Column("name", "text"),
        Column("time_zone", "text"),
        Column("currency", "text"),
        Column("default_tax_id", "text"),
        *_COMMON_TAIL,
    ),
)

REGISTERS = TableSpec(
    "lightspeed_registers",
    (
        Column("id", "text", required=True),
        Column("name", "text"),
        Column("outlet_id", "text"),
        Column("is_open", "bool"),
        *_COMMON_TAIL,
    ),
    references=(("outlet_id", "lightspeed_outlets"),),
)

USERS = TableSpec(
    "lightspeed_users",
    (
        Column("id", "text", required=True),
        Column("username", "text"),
        Column("display_name", "text"),
        Column("email", "text"),
        Column("account_type", "text"),
        Column("created_at", "timestamptz"),
        Column("updated_at", "timestamptz"),
        *_COMMON_TAIL,
    ),
)


def _first_rate(record: dict[str, Any], _parent: dict[str, Any] | None) -> Any:
    rates = record.get("rates")
    if isinstance(rates, list) and rates and isinstance(rates[0], dict):
        return rates[0].get("rate")
    return record.get("rate")


TAXES = TableSpec(
    "lightspeed_taxes",
    (
        Column("id", "text", required=True),
        Column("name", "text"),
        Column("display_name", "text"),
        Column("rate", "numeric", extract=_first_rate),
        Column("is_default", "bool"),
        *_COMMON_TAIL,
    ),
)

PAYMENT_TYPES = TableSpec(
    "lightspeed_payment_types",
    (
        Column("id", "text", required=True),
        Column("name", "text"),
        Column("type_id", "int"),
        *_COMMON_TAIL,
    ),
)

BRANDS = TableSpec(
    "lightspeed_brands",
    (Column("id", "text", required=True), Column("name", "text"), *_COMMON_TAIL),
)

SUPPLIERS = TableSpec(
    "lightspeed_suppliers",
    (
        Column("id", "text", required=True),
        Column("name", "text"),
        Column("description", "text"),
        *_COMMON_TAIL,
    ),
)

PRODUCT_CATEGORIES = TableSpec(
    "lightspeed_product_categories",
    (
        Column("id", "text", required=True),
        Column("name", "text"),
        Column("parent_category_id", "text"),
        Column("root_category_id", "text"),
        Column("leaf_category", "bool"),
        Column("deleted_at", "timestamptz"),  # set by possync when a category disappears
    ),
    guard=None,  # the API has no version here: every run is a full snapshot
)

CUSTOMER_GROUPS = TableSpec(
    "lightspeed_customer_groups",
    (
        Column("id", "text", required=True),
        Column("name", "text"),
        Column("group_id", "text"),
        Column("created_at", "timestamptz"),
        Column("updated_at", "timestamptz"),
        *_COMMON_TAIL,
    ),
)


def _category_id(record: dict[str, Any], _parent: dict[str, Any] | None) -> Any:
    category = record.get("product_category")
    if isinstance(category, dict):
        return category.get("id")
    return record.get("product_category_id") or record.get("product_type_id")


PRODUCTS = TableSpec(
    "lightspeed_products",
    (
        Column("id", "text", required=True),
        Column("name", "text", required=True),
        Column("handle", "text"),
        Column("sku", "text"),
        Column("variant_parent_id", "text"),
        Column("variant_name", "text"),
        Column("active", "bool"),
        Column("has_inventory", "bool"),
        Column("is_composite", "bool"),
        Column("has_variants", "bool"),
        Column("price_including_tax", "numeric"),
        Column("price_excluding_tax", "numeric"),
        Column("supply_price", "numeric"),
        Column("brand_id", "text"),
        Column("supplier_id", "text"),
        Column("product_category_id", "text", extract=_category_id),
        Column("source", "text"),
        Column("created_at", "timestamptz"),
        Column("updated_at", "timestamptz"),
        *_COMMON_TAIL,
    ),
)

CUSTOMERS = TableSpec(
    "lightspeed_customers",
    (
        Column("id", "text", required=True),
        Column("customer_code", "text"),
        Column("first_name", "text"),
        Column("last_name", "text"),
        Column("email", "text"),
        Column("phone", "text"),
        Column("mobile", "text"),
        Column("company_name", "text"),
        Column("customer_group_id", "text"),
        Column("balance", "numeric"),
        Column("loyalty_balance", "numeric"),
        Column("year_to_date", "numeric"),
        Column("do_not_email", "bool"),
        Column("date_of_birth", "date"),
        Column("created_at", "timestamptz"),
        Column("updated_at", "timestamptz"),
        *_COMMON_TAIL,
    ),
    references=(("customer_group_id", "lightspeed_customer_groups"),),
)


def _inventory_amount(record: dict[str, Any], _parent: dict[str, Any] | None) -> Any:
    level = record.get("inventory_level")
    return level if level is not None else record.get("current_amount")


INVENTORY = TableSpec(
    "lightspeed_inventory",
    (
        Column("id", "text", required=True),
        Column("product_id", "text", required=True),
        Column("outlet_id", "text", required=True),
        Column("current_amount", "numeric", extract=_inventory_amount),
        Column("reorder_point", "numeric"),
        Column("reorder_amount", "numeric"),
        Column("average_cost", "numeric"),
        *_COMMON_TAIL,
    ),
    references=(("product_id", "lightspeed_products"), ("outlet_id", "lightspeed_outlets")),
)

SALE_LINE_ITEMS = TableSpec(
    "lightspeed_sale_line_items",
    (
        Column("id", "text", required=True),
        Column("sale_id", "text", required=True, extract=parent_field("id")),
        Column("sale_version", "bigint", required=True, extract=parent_field("version")),
        Column("product_id", "text"),
        Column("tax_id", "text"),
        Column("quantity", "numeric", required=True),
        Column("price", "numeric"),
        Column("price_total", "numeric", required=True),
        Column("cost", "numeric"),
        Column("cost_total", "numeric"),
        Column("discount", "numeric"),
        Column("discount_total", "numeric"),
        Column("tax", "numeric"),
        Column("tax_total", "numeric"),
        Column("loyalty_value", "numeric"),
        Column("status", "text"),
        Column("is_return", "bool"),
        Column("sequence", "int"),
        Column("note", "text"),
        Column("deleted_at", "timestamptz", extract=parent_field("deleted_at")),
    ),
    guard=None,  # replaced with the sale, guarded by the sale's version
    references=(("product_id", "lightspeed_products"),),
)


def _own_or_sale_deleted_at(record: dict[str, Any], parent: dict[str, Any] | None) -> Any:
    """A payment is gone when it was deleted or its sale was."""
    return record.get("deleted_at") or (parent or {}).get("deleted_at")


SALE_PAYMENTS = TableSpec(
    "lightspeed_sale_payments",
    (
        Column("id", "text", required=True),
        Column("sale_id", "text", required=True, extract=parent_field("id")),
        Column("sale_version", "bigint", required=True, extract=parent_field("version")),
        Column("retailer_payment_type_id", "text"),
        Column("payment_type_id", "text"),
        Column("name", "text"),
        Column("amount", "numeric", required=True),
        Column("payment_date", "timestamptz"),
        Column("register_id", "text"),
        Column("outlet_id", "text"),
        Column("deleted_at", "timestamptz", extract=_own_or_sale_deleted_at),
    ),
    guard=None,
)


def _as_decimal(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def check_sale_totals(record: dict[str, Any], _row: dict[str, Any]) -> str | None:
    """Line items must add up to the sale's tax-exclusive total, within the rounding
    tolerance (a cent, plus half a cent per line)."""
    lines = record.get("line_items")
    if not isinstance(lines, list) or not lines:
        return None
    total = _as_decimal(record.get("total_price"))
    if total is None:
        return "total_price is missing or not a number"
    line_sum = Decimal(0)
    for line in lines:
        amount = _as_decimal(line.get("price_total") if isinstance(line, dict) else None)
        if amount is None:
            return "a line item's price_total is missing or not a number"
        line_sum += amount
    tolerance = LINE_TOTAL_TOLERANCE + LINE_TOTAL_TOLERANCE_PER_LINE * len(lines)
    if abs(line_sum - total) > tolerance:
        return f"line items add up to {line_sum} but total_price is {total}"
    return None


def _sale_total_discount(record: dict[str, Any], _parent: dict[str, Any] | None) -> Any:
    lines = record.get("line_items")
    if not isinstance(lines, list):
        return None
    total = Decimal(0)
    for line in lines:
        amount = _as_decimal(line.get("discount_total") if isinstance(line, dict) else None)
        if amount is not None:
            total += amount
    return total


SALES = TableSpec(
    "lightspeed_sales",
    (
        Column("id", "text", required=True),
        Column("outlet_id", "text", required=True),
        Column("register_id", "text"),
        Column("user_id", "text"),
        Column("customer_id", "text"),
        Column("invoice_number", "text"),
        Column("receipt_number", "text"),
        Column("status", "text", required=True),
        Column("state", "text"),
        Column("source", "text"),
        Column("return_for", "text"),
        Column("total_price", "numeric", required=True),
        Column("total_tax", "numeric", required=True),
        Column("total_loyalty", "numeric"),
        Column("total_discount", "numeric", extract=_sale_total_discount),
        Column("note", "text"),
        Column("sale_date", "timestamptz", required=True),
        Column("created_at", "timestamptz"),
        Column("updated_at", "timestamptz"),
        *_COMMON_TAIL,
    ),
    children=(
        ChildSpec(SALE_LINE_ITEMS, "line_items", "sale_id", "sale_version"),
        ChildSpec(SALE_PAYMENTS, "payments", "sale_id", "sale_version"),
    ),
    check=check_sale_totals,
    references=(
        ("outlet_id", "lightspeed_outlets"),
        ("register_id", "lightspeed_registers"),
        ("customer_id", "lightspeed_customers"),
    ),
)

TABLES: dict[str, TableSpec] = {
    "outlets": OUTLETS,
    "registers": REGISTERS,
    "users": USERS,
    "taxes": TAXES,
    "payment_types": PAYMENT_TYPES,
    "brands": BRANDS,
    "suppliers": SUPPLIERS,
    "product_categories": PRODUCT_CATEGORIES,
    "customer_groups": CUSTOMER_GROUPS,
    "products": PRODUCTS,
    "customers": CUSTOMERS,
    "inventory": INVENTORY,
    "sales": SALES,
}


def _closed_sale_day(
    record: dict[str, Any], zones: dict[str, str]
) -> tuple[tuple[str, str], dict[str, Any]] | None:
    """The outlet-day and totals a closed, live sale adds (as daily_sales_summary counts it)."""
    if record.get("status") != "CLOSED" or record.get("deleted_at"):
        return None
    outlet = record.get("outlet_id")
    sale_date = record.get("sale_date")
    if not isinstance(outlet, str) or not isinstance(sale_date, str):
        return None
    zone = ZoneInfo(zones.get(outlet, "UTC"))
    local_day = datetime.fromisoformat(sale_date.replace("Z", "+00:00")).astimezone(zone).date()
    discount = _sale_total_discount(record, None) or Decimal(0)
    return (outlet, local_day.isoformat()), {
        "count": 1,
        "total_price": _as_decimal(record.get("total_price")) or Decimal(0),
        "total_tax": _as_decimal(record.get("total_tax")) or Decimal(0),
        "total_discount": discount,
    }


RECONCILE = ReconcileSpec(
    entity="sales",
    fields=("count", "total_price", "total_tax", "total_discount"),
    locations_sql="SELECT id, time_zone FROM lightspeed_outlets WHERE deleted_at IS NULL",
    stored_days_sql="""SELECT outlet_id, business_date::text, transaction_count, total_revenue,
                              total_tax, total_discount
                       FROM daily_sales_summary
                       WHERE business_date BETWEEN %(first)s AND %(last)s""",
    day_of=_closed_sale_day,
)
