"""Build a simulated Square seller, deterministically from a seed and a scale.

Locations, taxes, categories, items and most customers exist before the generated window;
then the window's history is *simulated* with the same events time travel uses.
"""

from __future__ import annotations

import random
from zoneinfo import ZoneInfo

from possync.simulator.square.build_docs import category_doc, location_doc, tax_doc
from possync.simulator.square.catalog_events import (
    create_customer,
    create_item,
    delete_item,
    on_price_change,
)
from possync.simulator.square.common import DAY_MS, ceil_second, key_ms, upper_id
from possync.simulator.square.model import CatalogRecord, Location, SquareData
from possync.simulator.square.scales import CUSTOMERS_BEFORE_WINDOW, SCALES, activity
from possync.simulator.square.timeline import simulate
from possync.simulator.square.world import World

CITIES = (
    ("Seattle", "WA", "98101", 47.6062, -122.3321, "America/Los_Angeles"),
    ("Brooklyn", "NY", "11201", 40.6782, -73.9442, "America/New_York"),
    ("Chicago", "IL", "60601", 41.8781, -87.6298, "America/Chicago"),
    ("Denver", "CO", "80202", 39.7392, -104.9903, "America/Denver"),
    ("Phoenix", "AZ", "85004", 33.4484, -112.0740, "America/Phoenix"),
    ("Honolulu", "HI", "96813", 21.3069, -157.8583, "Pacific/Honolulu"),
    ("Anchorage", "AK", "99501", 61.2181, -149.9003, "America/Anchorage"),
    ("Austin", "TX", "78701", 30.2672, -97.7431, "America/Chicago"),
    ("Boston", "MA", "02108", 42.3601, -71.0589, "America/New_York"),
    ("Detroit", "MI", "48226", 42.3314, -83.0458, "America/Detroit"),
    ("Boise", "ID", "83702", 43.6150, -116.2023, "America/Boise"),
    ("San Diego", "CA", "92101", 32.7157, -117.1611, "America/Los_Angeles"),
    ("Indianapolis", "IN", "46204", 39.7684, -86.1581, "America/Indiana/Indianapolis"),
    ("Miami", "FL", "33131", 25.7617, -80.1918, "America/New_York"),
    ("Nashville", "TN", "37203", 36.1627, -86.7816, "America/Chicago"),
    ("Salt Lake City", "UT", "84101", 40.7608, -111.8910, "America/Denver"),
)
NEIGHBORHOODS = ("Downtown", "Harborside", "Old Town", "University", "Riverside", "Uptown")
CATEGORY_NAMES = (
    "Coffee", "Tea", "Pastries", "Sandwiches", "Merchandise", "Beans", "Cold Drinks",
    "Breakfast", "Desserts", "Snacks", "Salads", "Smoothies", "Soups", "Bakery", "Gifts",
    "Seasonal", "Brewing Gear", "Juices", "Kids", "Grocery",
)  # fmt: skip
FOOD_CATEGORIES = {"Pastries", "Sandwiches", "Breakfast", "Desserts", "Snacks", "Salads"}
FOOD_CATEGORIES |= {"Soups", "Bakery"}


def build_world(seed: int, scale_name: str, now_ms: int) -> World:
    """The seller as of `now_ms`, with `scale.days` of simulated history."""
    if scale_name not in SCALES:
        raise ValueError(f"unknown scale {scale_name!r}; use one of {', '.join(SCALES)}")
    scale = SCALES[scale_name]
    rng = random.Random(f"possync-square:{seed}:{scale_name}")
    window_start = now_ms - scale.days * DAY_MS
    world = World(SquareData(), rng, scale, window_start, merchant_id=upper_id(rng, 13))
    _add_locations(world)
    _add_catalog(world)
    _add_customers(world)
    simulate(world, window_start, now_ms, activity(scale, live=False))
    world.happened.clear()
    return world


def _add_locations(world: World) -> None:
    rng, start = world.rng, world.window_start_ms
    for number in range(world.scale.locations):
        locality, state, postal_code, latitude, longitude, zone = CITIES[number % len(CITIES)]
        neighborhood = NEIGHBORHOODS[number // len(CITIES) % len(NEIGHBORHOODS)]
        name = f"{locality} {neighborhood}"
        if number >= len(CITIES) * len(NEIGHBORHOODS):
            name = f"{name} {number}"
        created_ms = start - (900 - 20 * number) * DAY_MS + rng.randrange(DAY_MS)
        # Every twelfth location closed halfway through the window: INACTIVE, old orders only.
        inactive = number % 12 == 11
        location_id = upper_id(rng, 13)
        doc = location_doc(
            location_id=location_id,
            merchant_id=world.merchant_id,
            name=name,
            zone=zone,
            city=(locality, state, postal_code, latitude, longitude),
            created_ms=created_ms,
            active=not inactive,
            street_number=100 + 7 * number,
        )
        world.data.add_location(Location(location_id, name, ZoneInfo(zone), doc))
        world.location_ids.append(location_id)
        world.location_weights.append(rng.uniform(0.5, 1.5))
        if inactive:
            world.inactive_from[location_id] = start + world.scale.days * DAY_MS // 2
    # Sum of weights × share of the window each location traded (inactive ones: half).
    world.trading_weight = sum(
        weight * (0.5 if location_id in world.inactive_from else 1.0)
        for location_id, weight in zip(world.location_ids, world.location_weights, strict=True)
    )


def _add_catalog(world: World) -> None:
    rng, data, start = world.rng, world.data, world.window_start_ms
    for name, percentage in (("Sales Tax", "8.875"), ("Prepared Food Tax", "5.5")):
        tax = CatalogRecord(upper_id(rng, 24), "TAX", 0, False, 0, {})
        tax.doc = tax_doc(tax.id, name, percentage)
        data.save_catalog(tax, start - 800 * DAY_MS + rng.randrange(DAY_MS))
        world.tax_ids.append(tax.id)
    for number in range(world.scale.categories):
        name = CATEGORY_NAMES[number % len(CATEGORY_NAMES)]
        if number >= len(CATEGORY_NAMES):
            name = f"{name} {number // len(CATEGORY_NAMES) + 1}"
        category = CatalogRecord(upper_id(rng, 24), "CATEGORY", 0, False, 0, {})
        category.doc = category_doc(category.id, name)
        data.save_catalog(category, start - (700 - number) * DAY_MS + rng.randrange(DAY_MS))
        world.category_ids.append(category.id)
        if name.split(" ")[0] in FOOD_CATEGORIES:
            world.food_category_ids.add(category.id)
    created = sorted(
        start - rng.randrange(60 * DAY_MS, 600 * DAY_MS) for _ in range(world.scale.items)
    )
    items = [create_item(world, at, stock=False) for at in created]
    world.initial_items = len(items)
    # A few items were deleted before the window; a few prices moved shortly before it.
    for item in rng.sample(items, max(1, len(items) // 30)):
        created_at = key_ms(item.updated_key)
        delete_item(world, item.id, rng.randrange(created_at + 1, start - 30 * DAY_MS))
    for at in sorted(rng.randrange(start - 30 * DAY_MS, start) for _ in range(len(items) // 10)):
        on_price_change(world, at, "")
    stock = [
        (start - rng.randrange(5 * DAY_MS), variation_id, location_id, rng.randint(30, 150))
        for variation_id in world.alive_variations
        for location_id in world.location_ids
        if rng.random() < 0.6
    ]
    for at, variation_id, location_id, quantity in sorted(stock):
        record = data.save_count(variation_id, location_id, "IN_STOCK", quantity, at)
        world.stock_ids.append(record.id)


def _add_customers(world: World) -> None:
    rng, start = world.rng, world.window_start_ms
    before = int(world.scale.customers * CUSTOMERS_BEFORE_WINDOW)
    for created in sorted(start - rng.randrange(1, 500 * DAY_MS) for _ in range(before)):
        if rng.random() < 0.3:
            updated = ceil_second(rng.randrange(created, start))
            create_customer(world, created, min(updated, start), rng.randint(2, 4))
        else:
            create_customer(world, created, ceil_second(created))
