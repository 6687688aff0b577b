"""The store's set-up records: taxes, outlets, registers, users, payment types, brands,
suppliers, product categories and customer groups, shaped as the API 2.0 schemas say.

Builders return plain dicts without `version`; the store assigns versions when it publishes.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from possync.simulator.lightspeed.scales import OUTLET_PLANS, OutletPlan, ScalePlan
from possync.simulator.lightspeed.values import new_id, timestamp_from_epoch

Record = dict[str, Any]
DAY = 86_400

PAYMENT_TYPE_PLANS = (  # name, global type_id, share of payments
    ("Cash", 1, 30),
    ("Credit Card", 3, 55),
    ("Gift Card", 118, 5),
    ("Loyalty", 106, 3),
    ("Store Credit", 4, 7),
)
CATEGORY_NAMES = (
    ("Apparel", ("Shirts", "Trousers", "Jackets")),
    ("Footwear", ("Sneakers", "Boots")),
    ("Accessories", ("Bags", "Hats", "Belts")),
    ("Home", ("Kitchen", "Decor")),
    ("Beauty", ("Skincare", "Fragrance")),
    ("Outdoor", ("Camping", "Cycling")),
    ("Stationery", ("Notebooks", "Pens")),
    ("Toys", ("Puzzles", "Games")),
)
CUSTOMER_GROUPS = (
    ("All Customers", "1111111111"),
    ("VIP", "2"),
    ("Wholesale", "3"),
    ("Staff", "4"),
)
FIRST_NAMES = ("Aroha", "Ben", "Chloe", "Dev", "Ema", "Finn", "Grace", "Hemi", "Isla", "Jack")
LAST_NAMES = ("Smith", "Ngata", "Chen", "Patel", "Brown", "Walker", "Kaur", "Wilson", "Lee")


@dataclass
class OutletInfo:
    """What sales need to know about an outlet."""

    id: str
    plan: OutletPlan
    tax_id: str
    rate_id: str
    register_ids: list[str] = field(default_factory=list)


@dataclass
class Catalog:
    """Set-up records per entity (insertion order = creation order) and lookups for sales."""

    records: dict[str, dict[str, Record]]
    outlets: list[OutletInfo]
    user_ids: list[str]
    payment_types: list[tuple[str, int, str, int]]  # id, type_id, name, weight
    category_ids: list[str]


def created_epoch(rng: random.Random, history_start: int) -> int:
    """A creation time in the year before the sales history starts."""
    return history_start - rng.randrange(DAY, 400 * DAY)


def _stamps(rng: random.Random, history_start: int) -> tuple[str, str]:
    created = created_epoch(rng, history_start)
    updated = created + rng.randrange(0, 30 * DAY)
    return timestamp_from_epoch(created), timestamp_from_epoch(updated)


def build_catalog(rng: random.Random, plan: ScalePlan, history_start: int) -> Catalog:
    """Every set-up entity for a store of this scale."""
    records: dict[str, dict[str, Record]] = {}
    outlets: list[OutletInfo] = []
    taxes: dict[str, Record] = {}
    for index, outlet_plan in enumerate(OUTLET_PLANS[: plan.outlets]):
        tax_id, rate_id = new_id(rng), new_id(rng)
        rate = {
            "id": rate_id,
            "name": outlet_plan.tax_name,
            "rate": outlet_plan.tax_rate_basis_points / 10_000,
            "display_name": outlet_plan.tax_name,
        }
        taxes[tax_id] = {
            "id": tax_id,
            "name": outlet_plan.tax_name,
            "display_name": outlet_plan.tax_name,
            "rates": [rate],
            "is_default": index == 0,
            "deleted_at": None,
        }
        outlets.append(OutletInfo(new_id(rng), outlet_plan, tax_id, rate_id))
    no_tax_id = new_id(rng)
    no_tax_rate = {"id": new_id(rng), "name": "No Tax", "rate": 0.0, "display_name": "No Tax"}
    taxes[no_tax_id] = {
        "id": no_tax_id,
        "name": "No Tax",
        "display_name": "No Tax",
        "rates": [no_tax_rate],
        "is_default": False,
        "deleted_at": None,
    }
    records["taxes"] = taxes
    records["outlets"] = {o.id: _outlet_record(o) for o in outlets}
    records["registers"] = _registers(rng, plan, outlets, history_start)
    records["users"] = _users(rng, plan, outlets, history_start)
    payment_types, records["payment_types"] = _payment_types(rng)
    records["brands"] = _named(rng, plan.brands, "Brand", history_start, deleted_every=9)
    records["suppliers"] = _suppliers(rng, plan.suppliers, history_start)
    records["product_categories"] = _categories(rng, plan.root_categories)
    records["customer_groups"] = _customer_groups(rng, history_start)
    return Catalog(
        records=records,
        outlets=outlets,
        user_ids=[u for u, r in records["users"].items() if r["deleted_at"] is None],
        payment_types=payment_types,
        category_ids=[c for c, r in records["product_categories"].items() if r["leaf_category"]],
    )


def _outlet_record(outlet: OutletInfo) -> Record:
    plan = outlet.plan
    return {
        "id": outlet.id,
        "name": plan.name,
        "time_zone": plan.time_zone,
        "default_tax_id": outlet.tax_id,
        "currency": "NZD",
        "currency_symbol": "$",
        "display_prices": "inclusive" if plan.tax_inclusive else "exclusive",
        "physical_address_1": f"1 {plan.name} Street",
        "physical_address_2": "",
        "physical_suburb": "",
        "physical_city": plan.city,
        "physical_postcode": "1010",
        "physical_state": "",
        "physical_country_id": plan.country,
        "email": f"{plan.prefix.lower()}@example.com",
        "attributes": [
            {"key": "order_reference_prefix", "value": plan.prefix},
            {"key": "return_reference_prefix", "value": f"{plan.prefix}R"},
        ],
        "deleted_at": None,
    }


def _registers(
    rng: random.Random, plan: ScalePlan, outlets: list[OutletInfo], history_start: int
) -> dict[str, Record]:
    registers: dict[str, Record] = {}
    for outlet in outlets:
        for number in range(1, plan.registers_per_outlet + 1):
            register_id = new_id(rng)
            outlet.register_ids.append(register_id)
            registers[register_id] = {
                "id": register_id,
                "name": f"{outlet.plan.name} Register {number}",
                "outlet_id": outlet.id,
                "ask_for_note_on_save": 1,
                "print_note_on_receipt": False,
                "ask_for_user_on_sale": False,
                "show_discounts_on_receipts": True,
                "print_receipt": True,
                "email_receipt": False,
                "invoice_prefix": f"{outlet.plan.prefix}{number}-",
                "invoice_suffix": "",
                "invoice_sequence": 0,
                "button_layout_id": None,
                "is_open": True,
                "receipt_template_id": new_id(rng),
                "register_open_time": timestamp_from_epoch(history_start),
                "register_close_time": None,
                "register_open_sequence_id": new_id(rng),
                "cash_managed_payment_type_id": None,
                "deleted_at": None,
            }
    return registers


def _users(
    rng: random.Random, plan: ScalePlan, outlets: list[OutletInfo], history_start: int
) -> dict[str, Record]:
    users: dict[str, Record] = {}
    roles = (
        ("cashier", "300", "Cashier"),
        ("manager", "200", "Manager"),
        ("admin", "100", "Admin"),
    )
    for index in range(plan.users):
        user_id = new_id(rng)
        account_type, role_id, role_name = roles[2] if index == 0 else rng.choice(roles[:2])
        created, updated = _stamps(rng, history_start)
        name = f"{FIRST_NAMES[index % len(FIRST_NAMES)]} {LAST_NAMES[index % len(LAST_NAMES)]}"
        image = f"https://images.example.com/users/{user_id}.png"
        deleted = index > 1 and index % 11 == 0
        users[user_id] = {
            "id": user_id,
            "username": f"user{index + 1}",
            "display_name": name,
            "email": f"user{index + 1}@example.com",
            "email_verified_at": None,
            "switch_id": f"usi:{user_id[:12]}",
            "account_type": account_type,
            "roles": [{"id": role_id, "name": role_name, "system_role_id": role_id}],
            "enabled": not deleted,
            "restricted_outlet_id": None,
            "restricted_outlet_ids": [] if index < 2 else [outlets[index % len(outlets)].id],
            "permissions": [],
            "rules": {},
            "is_primary_user": index == 0,
            "image_source": image,
            "images": dict.fromkeys(
                ("ss", "standard", "st", "original", "thumb", "sl", "sm"), image
            ),
            "target_daily": 1000,
            "target_weekly": 5000,
            "target_monthly": 20000,
            "seen_at": updated,
            "created_at": created,
            "updated_at": updated,
            "deleted_at": updated if deleted else None,
            "time_until_deletion": None,
            "enabled_mfa": None,
            "require_password_change": False,
        }
    return users


def _payment_types(
    rng: random.Random,
) -> tuple[list[tuple[str, int, str, int]], dict[str, Record]]:
    live: list[tuple[str, int, str, int]] = []
    records: dict[str, Record] = {}
    for name, type_id, weight in PAYMENT_TYPE_PLANS:
        payment_type_id = new_id(rng)
        live.append((payment_type_id, type_id, name, weight))
        records[payment_type_id] = {
            "id": payment_type_id,
            "name": name,
            "type_id": type_id,
            "deleted_at": None,
        }
    retired = new_id(rng)  # a payment type the shop stopped using
    records[retired] = {
        "id": retired,
        "name": "Cheque",
        "type_id": 2,
        "deleted_at": timestamp_from_epoch(1_700_000_000),
    }
    return live, records


def _named(
    rng: random.Random, count: int, noun: str, history_start: int, deleted_every: int
) -> dict[str, Record]:
    records: dict[str, Record] = {}
    for index in range(count):
        record_id = new_id(rng)
        deleted = index % deleted_every == deleted_every - 1
        _, updated = _stamps(rng, history_start)
        records[record_id] = {
            "id": record_id,
            "name": f"{noun} {index + 1:03d}",
            "deleted_at": updated if deleted else None,
        }
    return records


def _suppliers(rng: random.Random, count: int, history_start: int) -> dict[str, Record]:
    records = _named(rng, count, "Supplier", history_start, deleted_every=7)
    for record in records.values():
        number = record["name"].split()[-1]
        record["description"] = f"Wholesale supplier {number}"
        record["source"] = "USER"
        record["default_markup"] = 50
        record["contact"] = {
            "first_name": "Sam",
            "last_name": f"Supplier{number}",
            "company_name": record["name"],
            "email": f"orders{number}@supplier.example.com",
            "phone": f"+64 9 555 0{number}",
            "physical_city": "Auckland",
            "physical_country_id": "NZ",
        }
    return records


def _categories(rng: random.Random, root_count: int) -> dict[str, Record]:
    records: dict[str, Record] = {}
    for root_name, children in CATEGORY_NAMES[:root_count]:
        root_id = new_id(rng)
        root_path = [{"id": root_id, "name": root_name}]
        records[root_id] = {
            "id": root_id,
            "name": root_name,
            "root_category_id": root_id,
            "leaf_category": False,
            "category_path": root_path,
        }
        for child_name in children:
            child_id = new_id(rng)
            records[child_id] = {
                "id": child_id,
                "name": child_name,
                "root_category_id": root_id,
                "parent_category_id": root_id,
                "leaf_category": True,
                "category_path": [*root_path, {"id": child_id, "name": child_name}],
            }
    return records


def _customer_groups(rng: random.Random, history_start: int) -> dict[str, Record]:
    records: dict[str, Record] = {}
    retailer_id = new_id(rng)
    for name, group_id in CUSTOMER_GROUPS:
        record_id = new_id(rng)
        created, updated = _stamps(rng, history_start)
        records[record_id] = {
            "id": record_id,
            "name": name,
            "group_id": group_id,
            "retailer_id": retailer_id,
            "created_at": created,
            "updated_at": updated,
            "deleted_at": updated if name == "Staff" else None,
        }
    return records
