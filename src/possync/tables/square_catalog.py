"""Square's store and catalog tables (migration 0003): locations, categories, items and
their variations, customers, inventory counts — what orders and payments refer to.

Catalog objects deleted at Square keep their row with `deleted_at` = the deletion time
(Square sets `updated_at` to it).
"""

from __future__ import annotations

from typing import Any

from possync.tables.spec import Column, TableSpec
from possync.tables.square_fields import first_of, money_column


def _deleted_at(record: dict[str, Any], _parent: dict[str, Any] | None) -> Any:
    """Square marks a deleted catalog object `is_deleted`; its `updated_at` is the deletion."""
    return record.get("updated_at") if record.get("is_deleted") is True else None


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
            extract=first_of("item_data.categories", "id", "item_data.category_id"),
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
        money_column("price_money", "item_variation_data.price_money"),
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
