"""Catalog, inventory and customer events (and the creators the initial build shares).

Catalog objects carry `version` = `updated_at` in epoch ms. Deleting an item cascades to its
variations (`is_deleted`, `updated_at` = deletion time, new version); changing a variation
re-renders its parent item, whose version moves too.
"""

from __future__ import annotations

from typing import Any

import orjson

from possync.simulator.square.build_docs import customer_doc, item_doc, variation_doc
from possync.simulator.square.build_orders import Sellable
from possync.simulator.square.common import (
    ceil_second,
    format_seconds,
    key_ms,
    money,
    upper_id,
)
from possync.simulator.square.model import CatalogRecord
from possync.simulator.square.world import World

ADJECTIVES = (
    "Classic", "Smoked", "Honey", "Golden", "Wild", "Spiced", "Toasted", "Maple", "Velvet",
    "Rustic", "Citrus", "Midnight", "Harbor", "Pine", "Salted", "Vanilla", "Cocoa", "Ember",
    "Alpine", "Coastal", "Sunrise", "Berry", "Hazel", "Cinnamon", "Lavender", "Mocha",
    "Ginger", "Oat", "Almond", "Caramel",
)  # fmt: skip
NOUNS = (
    "Latte", "Cold Brew", "Espresso", "Cortado", "Chai", "Matcha", "Croissant", "Scone",
    "Muffin", "Bagel", "Panini", "Wrap", "Salad", "Cookie", "Brownie", "Tart", "Granola",
    "Smoothie", "Lemonade", "Iced Tea", "Drip Coffee", "Americano", "Macchiato", "Flat White",
    "Mug", "Tote", "Beans 12oz", "Pour Over Kit", "Tumbler", "Gift Card Sleeve", "Danish",
    "Quiche", "Soup", "Focaccia", "Biscotti", "Cake Slice", "Parfait", "Toast", "Bowl", "Tonic",
)  # fmt: skip
VARIATION_SETS = (
    ("Regular",),
    ("Regular",),
    ("Small", "Large"),
    ("Small", "Medium", "Large"),
    ("8 oz", "12 oz", "16 oz"),
)
GIVEN_NAMES = (
    "Amelia", "Noah", "Olivia", "Liam", "Emma", "Mateo", "Ava", "Elijah", "Sofia", "Lucas",
    "Mia", "Levi", "Isla", "Ezra", "Zoe", "Kai", "Nora", "Leo", "Hana", "Omar", "Priya",
    "Diego", "Mei", "Tariq", "Grace", "Felix", "Yara", "Hugo", "Ines", "Ravi",
)  # fmt: skip
FAMILY_NAMES = (
    "Earhart", "Nguyen", "Garcia", "Okafor", "Smith", "Kim", "Rossi", "Patel", "Johnson",
    "Silva", "Müller", "Cohen", "Tanaka", "Brown", "Dubois", "Haddad", "Larsen", "Walker",
    "Novak", "Reyes", "O'Brien", "Singh", "Chen", "Lopez", "Ivanova", "Mensah",
)  # fmt: skip


def _sellable(world: World, variation: CatalogRecord, item: CatalogRecord) -> Sellable:
    tax = world.data.catalog[item.doc["item_data"]["tax_ids"][0]]
    data = variation.doc["item_variation_data"]
    return Sellable(
        variation_id=variation.id,
        item_name=item.doc["item_data"]["name"],
        variation_name=data["name"],
        price=data["price_money"]["amount"],
        catalog_version=variation.doc["version"],
        tax_id=tax.id,
        tax_name=tax.doc["tax_data"]["name"],
        tax_percentage=tax.doc["tax_data"]["percentage"],
        tax_version=tax.doc["version"],
    )


def create_item(world: World, at: int, *, stock: bool) -> CatalogRecord:
    """A new item with 1–3 variations; optionally stocked at some locations."""
    rng, data = world.rng, world.data
    world.item_counter += 1
    number = world.item_counter
    name = f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)}"
    if number > len(ADJECTIVES) * len(NOUNS) // 4:
        name = f"{name} No. {number}"
    category_id = world.category_ids[rng.randrange(len(world.category_ids))]
    tax_id = world.tax_ids[1 if category_id in world.food_category_ids else 0]
    item_id = upper_id(rng, 24)
    item = CatalogRecord(item_id, "ITEM", 0, False, 0, item_doc(item_id, name, category_id, tax_id))
    price = rng.randint(30, 500) * 5
    for ordinal, variation_name in enumerate(rng.choice(VARIATION_SETS), start=1):
        doc = variation_doc(
            upper_id(rng, 24),
            item.id,
            variation_name,
            f"SKU-{number:05d}-{ordinal}",
            ordinal,
            price,
        )
        variation = CatalogRecord(doc["id"], "ITEM_VARIATION", 0, False, 0, doc, parent_id=item.id)
        data.save_catalog(variation, at)
        item.child_ids.append(variation.id)
        price += rng.randint(10, 30) * 5
    data.save_catalog(item, at)
    world.alive_items.append(item.id)
    for variation_id in item.child_ids:
        world.sellables[variation_id] = _sellable(world, data.catalog[variation_id], item)
        world.alive_variations.append(variation_id)
        if not stock:
            continue
        for location_id in world.location_ids:
            if rng.random() < 0.6 and world.active(location_id, at):
                record = data.save_count(
                    variation_id, location_id, "IN_STOCK", rng.randint(30, 150), at
                )
                world.stock_ids.append(record.id)
    return item


def delete_item(world: World, item_id: str, at: int) -> None:
    """Delete an item and, by cascade, its variations."""
    data = world.data
    item = data.catalog[item_id]
    world.alive_items.remove(item_id)
    for variation_id in item.child_ids:
        variation = data.catalog[variation_id]
        if variation.is_deleted:
            continue
        variation.is_deleted = True
        data.save_catalog(variation, at)
        world.alive_variations.remove(variation_id)
        del world.sellables[variation_id]
    item.is_deleted = True
    data.save_catalog(item, at)


def on_price_change(world: World, at: int, _: str) -> None:
    """A variation's price moves by −10 % to +15 %; the parent item's version moves too."""
    rng, data = world.rng, world.data
    variation = data.catalog[world.alive_variations[rng.randrange(len(world.alive_variations))]]
    price_money = variation.doc["item_variation_data"]["price_money"]
    new_price = max(50, round(price_money["amount"] * rng.uniform(0.9, 1.15) / 5) * 5)
    variation.doc["item_variation_data"]["price_money"] = money(new_price)
    data.save_catalog(variation, at)
    item = data.catalog[str(variation.parent_id)]
    data.save_catalog(item, at)
    world.sellables[variation.id] = _sellable(world, variation, item)
    world.happened["price_changes"] += 1


def on_item_delete(world: World, at: int, _: str) -> None:
    """Delete a whole item (at most half the original catalog goes)."""
    if len(world.alive_items) <= world.initial_items // 2:
        return
    delete_item(world, world.alive_items[world.rng.randrange(len(world.alive_items))], at)
    world.happened["catalog_deletes"] += 1


def on_variation_delete(world: World, at: int, _: str) -> None:
    """Delete one variation of an item that has several; the item is re-rendered."""
    data, rng = world.data, world.rng
    for _attempt in range(5):
        variation = data.catalog[world.alive_variations[rng.randrange(len(world.alive_variations))]]
        item = data.catalog[str(variation.parent_id)]
        siblings = [c for c in item.child_ids if not data.catalog[c].is_deleted]
        if len(siblings) < 2:
            continue
        variation.is_deleted = True
        data.save_catalog(variation, at)
        data.save_catalog(item, at)
        world.alive_variations.remove(variation.id)
        del world.sellables[variation.id]
        world.happened["catalog_deletes"] += 1
        return


def on_new_item(world: World, at: int, _: str) -> None:
    """The seller adds an item to the catalog (stocked at some locations)."""
    create_item(world, at, stock=True)
    world.happened["new_items"] += 1


def on_restock(world: World, at: int, count_id: str) -> None:
    """A delivery arrives: IN_STOCK goes up (a random count, or the one that ran low)."""
    data, rng = world.data, world.rng
    if not count_id:
        count_id = world.stock_ids[rng.randrange(len(world.stock_ids))]
    world.restock_pending.discard(count_id)
    record = data.counts[count_id]
    quantity = max(record.quantity, 0) + rng.randint(20, 80)
    data.save_count(record.catalog_object_id, record.location_id, "IN_STOCK", quantity, at)
    world.happened["inventory_changes"] += 1


def on_waste(world: World, at: int, _: str) -> None:
    """Spoiled or broken goods move from IN_STOCK to WASTE."""
    data, rng = world.data, world.rng
    record = data.counts[world.stock_ids[rng.randrange(len(world.stock_ids))]]
    units = rng.randint(1, 3)
    variation_id, location_id = record.catalog_object_id, record.location_id
    data.save_count(variation_id, location_id, "IN_STOCK", record.quantity - units, at)
    waste = data.counts.get(f"{variation_id}:{location_id}:WASTE")
    data.save_count(
        variation_id, location_id, "WASTE", units + (waste.quantity if waste else 0), at
    )
    world.happened["inventory_changes"] += 2


def create_customer(world: World, created_ms: int, updated_ms: int, version: int = 1) -> None:
    """A customer profile (every one has a name and an email, so Square lists it)."""
    rng = world.rng
    world.customer_counter += 1
    doc = customer_doc(
        rng,
        customer_id=upper_id(rng, 26),
        given=rng.choice(GIVEN_NAMES),
        family=rng.choice(FAMILY_NAMES),
        number=world.customer_counter,
        created_ms=created_ms,
        updated_ms=updated_ms,
        version=version,
    )
    world.data.save_customer(doc, created_ms, updated_ms)
    world.customer_ids.append(doc["id"])


def on_new_customer(world: World, at: int, _: str) -> None:
    """A new customer profile (updated_at rounds up to the whole second)."""
    create_customer(world, at, ceil_second(at))
    world.happened["new_customers"] += 1


def on_customer_edit(world: World, at: int, _: str) -> None:
    """A customer changes their phone, email, family name or gets a note; version + 1."""
    data, rng = world.data, world.rng
    record = data.customers[world.customer_ids[rng.randrange(len(world.customer_ids))]]
    if record.id in data.malformed["customers"]:
        return
    doc: dict[str, Any] = orjson.loads(record.json)
    roll = rng.random()
    if roll < 0.3:
        doc["phone_number"] = f"+1-555-{rng.randint(100, 999)}-{rng.randint(1000, 9999)}"
    elif roll < 0.6:
        doc["email_address"] = f"{doc['given_name'].lower()}.{rng.randint(1, 9999)}@example.org"
    elif roll < 0.8:
        doc["family_name"] = rng.choice(FAMILY_NAMES)
    else:
        doc["note"] = f"Prefers oat milk ({rng.randint(1, 99)})"
    updated_ms = ceil_second(at)
    doc["updated_at"] = format_seconds(updated_ms)
    doc["version"] += 1
    data.save_customer(doc, key_ms(record.created_key), updated_ms)
    world.happened["customer_edits"] += 1
