"""Products (with variant families and the SYSTEM discount product), customers and inventory
records, shaped as the API 2.0 schemas say."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from possync.simulator.lightspeed.catalog import (
    FIRST_NAMES,
    LAST_NAMES,
    Catalog,
    Record,
    created_epoch,
)
from possync.simulator.lightspeed.values import (
    CENTS_PER_LINE_UNIT,
    line_units_to_number,
    new_id,
    timestamp_from_epoch,
)

SIZES = ("S", "M", "L", "XL", "XXL")
ADJECTIVES = ("Classic", "Urban", "Coastal", "Alpine", "Everyday", "Studio", "Heritage", "Nova")
NOUNS = ("Tee", "Hoodie", "Cap", "Tote", "Mug", "Candle", "Notebook", "Bottle", "Scarf", "Sock")


@dataclass(slots=True)
class Sellable:
    """A product a register can sell: ex-tax unit price and cost in 1e-5 units."""

    id: str
    price_units: int
    cost_units: int


def price_excluding_tax_units(price_incl_cents: int, rate_basis_points: int) -> int:
    """Ex-tax price (1e-5 units) from a tax-inclusive shelf price, rounded half up."""
    numerator = price_incl_cents * CENTS_PER_LINE_UNIT * 10_000
    denominator = 10_000 + rate_basis_points
    return (2 * numerator + denominator) // (2 * denominator)


class ProductFactory:
    """Builds product records; shared by history generation and time travel."""

    def __init__(self, catalog: Catalog, default_rate_basis_points: int) -> None:
        self.catalog = catalog
        self.rate = default_rate_basis_points
        self._brands = [r for r in catalog.records["brands"].values() if not r["deleted_at"]]
        self._suppliers = [r for r in catalog.records["suppliers"].values() if not r["deleted_at"]]
        self._sequence = 0

    def discount_product(self, rng: random.Random, created: int) -> Record:
        """The SYSTEM "vend-discount" product every store has (the discount line product)."""
        record = self._base(rng, "Discount", "vend-discount", created)
        # The real discount product has null prices; the 2.0 schema does not allow null
        # there, so the simulator leaves the price fields out.
        record.update(source="SYSTEM", has_inventory=False, supply_price=0.0, product_codes=[])
        record["product_suppliers"] = []
        return record

    def family(self, rng: random.Random, created: int, size: int) -> list[Record]:
        """A variant parent and its `size` variants (each its own product row)."""
        name, price_cents = self._name_and_price(rng)
        parent = self._product(rng, name, created, price_cents)
        parent.update(has_variants=True, variant_count=size, has_inventory=False)
        children = []
        for option in SIZES[:size]:
            sku = f"{parent['sku']}-{option}"
            child = self._product(rng, name, created, price_cents, parent=parent, sku=sku)
            child.update(
                variant_parent_id=parent["id"],
                variant_name=f"{name} / {option}",
                variant_options=[{"id": new_id(rng), "name": "Size", "value": option}],
            )
            children.append(child)
        return [parent, *children]

    def single(self, rng: random.Random, created: int) -> Record:
        """A product without variants."""
        name, price_cents = self._name_and_price(rng)
        return self._product(rng, name, created, price_cents)

    def set_price(self, record: Record, price_cents: int) -> None:
        """Change a product's shelf price (tax inclusive at the default tax)."""
        record["price_including_tax"] = price_cents / 100
        ex_units = price_excluding_tax_units(price_cents, self.rate)
        record["price_excluding_tax"] = line_units_to_number(ex_units)
        for supplier in record["product_suppliers"]:
            supplier["price"] = record["supply_price"]

    def _name_and_price(self, rng: random.Random) -> tuple[str, int]:
        self._sequence += 1
        name = f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)} {self._sequence}"
        price_cents = rng.randrange(5, 300) * 100 + rng.choice((0, 50, 95, 99))
        return name, price_cents

    def _base(self, rng: random.Random, name: str, sku: str, created: int) -> Record:
        product_id = new_id(rng)
        stamp = timestamp_from_epoch(created)
        return {
            "id": product_id,
            "name": name,
            "variant_name": name,
            "handle": sku,
            "sku": sku,
            "description": None,
            "source": "USER",
            "source_id": None,
            "source_variant_id": None,
            "variant_parent_id": None,
            "active": True,
            "has_inventory": True,
            "is_composite": False,
            "has_variants": False,
            "variant_options": [],
            "variant_count": 0,
            "tag_ids": [],
            "categories": [],
            "attributes": [],
            "images": [],
            "image_url": "https://images.example.com/placeholder/product/no-image.png",
            "image_thumbnail_url": "https://images.example.com/placeholder/product/thumb.png",
            "account_code": None,
            "account_code_purchase": None,
            "button_order": 0,
            "loyalty_amount": None,
            "created_at": stamp,
            "updated_at": stamp,
            "deleted_at": None,
        }

    def _product(
        self,
        rng: random.Random,
        name: str,
        created: int,
        price_cents: int,
        parent: Record | None = None,
        sku: str | None = None,
    ) -> Record:
        sku = sku or f"{10_000 + self._sequence}"
        record = self._base(rng, name, sku, created)
        handle = name.lower().replace(" ", "-")
        brand = parent["brand"] if parent else rng.choice(self._brands)
        supplier = parent["supplier"] if parent else rng.choice(self._suppliers)
        category_id = parent["product_type_id"] if parent else rng.choice(self.catalog.category_ids)
        category = self.catalog.records["product_categories"][category_id]
        supply_cents = price_cents * rng.randrange(35, 60) // 100
        record.update(
            handle=handle,
            description=f"<p>{name}</p>" if rng.random() < 0.5 else None,
            supply_price=supply_cents / 100,
            brand_id=brand["id"],
            brand={"id": brand["id"], "name": brand["name"], "deleted_at": None},
            supplier_id=supplier["id"],
            supplier_code=f"S-{sku}",
            supplier={"id": supplier["id"], "name": supplier["name"], "deleted_at": None},
            product_type_id=category_id,
            type={
                "id": category_id,
                "name": category["name"],
                "leaf_category": True,
                "category_path": category["category_path"],
                "deleted_at": None,
            },
            product_codes=[
                {"id": new_id(rng), "type": "EAN", "code": f"94{rng.randrange(10**10, 10**11)}"}
            ],
            product_suppliers=[
                {
                    "id": new_id(rng),
                    "product_id": record["id"],
                    "supplier_id": supplier["id"],
                    "supplier_name": supplier["name"],
                    "code": f"S-{sku}",
                    "price": supply_cents / 100,
                }
            ],
            button_order=rng.randrange(0, 50),
        )
        self.set_price(record, price_cents)
        return record


def sellable_of(record: Record, rate_basis_points: int) -> Sellable | None:
    """The sale-line view of a product, or None if registers cannot sell it."""
    if (
        record["deleted_at"] is not None
        or not record["active"]
        or record["has_variants"]
        or record["source"] == "SYSTEM"
    ):
        return None
    incl_cents = round(record["price_including_tax"] * 100)
    return Sellable(
        record["id"],
        price_excluding_tax_units(incl_cents, rate_basis_points),
        round(record["supply_price"] * 100) * CENTS_PER_LINE_UNIT,
    )


def build_products(
    rng: random.Random, factory: ProductFactory, count: int, history_start: int
) -> dict[str, Record]:
    """`count` product rows: the discount product, single products and variant families."""
    products: dict[str, Record] = {}
    discount = factory.discount_product(rng, history_start - 500 * 86_400)
    products[discount["id"]] = discount
    while len(products) < count:
        created = created_epoch(rng, history_start)
        room = count - len(products)
        if room >= 4 and rng.random() < 0.2:
            rows = factory.family(rng, created, rng.randrange(2, min(room - 1, 5) + 1))
        else:
            rows = [factory.single(rng, created)]
        for row in rows:
            if rng.random() < 0.03:
                row["active"] = False
            products[row["id"]] = row
    for index, record in enumerate(products.values()):
        if index % 40 == 39 and not record["has_variants"] and record["source"] != "SYSTEM":
            record["deleted_at"] = record["updated_at"]
    return products


def customer_record(rng: random.Random, group_id: str, created: int, *, walk_in: bool) -> Record:
    """A customer; walk-in ones are anonymous (UNNAMED code, no names or contact details)."""
    customer_id = new_id(rng)
    stamp = timestamp_from_epoch(created)
    record: dict[str, Any] = {
        "id": customer_id,
        "customer_code": f"UNNAMED-{customer_id[:4].upper()}",
        "customer_group_id": group_id,
        "first_name": None,
        "last_name": None,
        "name": None,
        "email": None,
        "phone": None,
        "mobile": None,
        "company_name": None,
        "gender": None,
        "date_of_birth": None,
        "note": None,
        "do_not_email": False,
        "enable_loyalty": False,
        "year_to_date": 0,
        "balance": 0,
        "loyalty_balance": 0,
        "on_account_limit": None,
        "physical_city": None,
        "physical_country_id": None,
        "custom_field_1": None,
        "created_at": stamp,
        "updated_at": stamp,
        "deleted_at": None,
    }
    if walk_in:
        return record
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    born = f"{rng.randrange(1950, 2005)}-0{rng.randrange(1, 10)}-{rng.randrange(10, 29)}"
    record.update(
        customer_code=f"{first}-{customer_id[:4].upper()}",
        first_name=first,
        last_name=last,
        name=f"{first} {last}",
        email=f"{first.lower()}.{last.lower()}.{customer_id[:6]}@example.com",
        mobile=f"+64 21 {rng.randrange(100_000, 999_999)}",
        gender=rng.choice(("M", "F", None)),
        date_of_birth=born,
        do_not_email=rng.random() < 0.2,
        enable_loyalty=rng.random() < 0.6,
        year_to_date=rng.randrange(0, 500_000) / 100,
        loyalty_balance=rng.randrange(0, 5_000) / 100,
        physical_city=rng.choice(("Auckland", "New York", "London", "Sydney")),
        physical_country_id=rng.choice(("NZ", "US", "GB", "AU")),
    )
    return record


def build_customers(
    rng: random.Random, catalog: Catalog, count: int, history_start: int
) -> tuple[dict[str, Record], list[str], list[str]]:
    """Customers plus the ids of walk-in (anonymous) and named ones that are not deleted."""
    groups = [g for g in catalog.records["customer_groups"].values() if not g["deleted_at"]]
    default_group = groups[0]["id"]
    customers: dict[str, Record] = {}
    walk_ins: list[str] = []
    named: list[str] = []
    for _ in range(len(catalog.outlets)):
        record = customer_record(rng, default_group, history_start - 600 * 86_400, walk_in=True)
        customers[record["id"]] = record
        walk_ins.append(record["id"])
    while len(customers) < count:
        group = default_group if rng.random() < 0.8 else rng.choice(groups)["id"]
        record = customer_record(rng, group, created_epoch(rng, history_start), walk_in=False)
        customers[record["id"]] = record
        if rng.random() < 0.02:
            record["deleted_at"] = record["updated_at"]
        else:
            named.append(record["id"])
    return customers, walk_ins, named


def inventory_record(
    rng: random.Random, product_id: str, outlet_id: str, level: int, deleted_at: str | None
) -> Record:
    """One product's stock at one outlet (levels may be negative, as in real stores)."""
    return {
        "id": new_id(rng),
        "product_id": product_id,
        "outlet_id": outlet_id,
        "inventory_level": level,
        "current_amount": level,
        "reorder_point": 5,
        "reorder_amount": 20,
        "average_cost": None,
        "deleted_at": deleted_at,
    }
