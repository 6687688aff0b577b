"""Building a whole simulated Lightspeed store from a seed and a scale, deterministically.

Each part draws from its own RNG stream (seeded by seed, scale and part), so the same seed
and scale always give the same records, versions and bytes.
"""

from __future__ import annotations

import random
from collections import defaultdict

from possync.simulator.lightspeed.catalog import DAY, build_catalog
from possync.simulator.lightspeed.history import generate_history
from possync.simulator.lightspeed.products import (
    ProductFactory,
    build_customers,
    build_products,
    inventory_record,
    sellable_of,
)
from possync.simulator.lightspeed.sale_factory import SaleFactory
from possync.simulator.lightspeed.scales import SCALE_PLANS
from possync.simulator.lightspeed.state import LightspeedState, VersionCounter

# Sales in these states have not taken goods off the shelf (or gave them back).
NO_STOCK_MOVEMENT = frozenset({"SAVED", "VOIDED"})


def stream(seed: int, scale: str, part: str) -> random.Random:
    """An independent, reproducible RNG for one part of the store."""
    return random.Random(f"possync-lightspeed:{seed}:{scale}:{part}")


def build_state(seed: int, scale: str, now: int) -> LightspeedState:
    """The store as it stands at `now` (epoch seconds): set-up records and sales history."""
    plan = SCALE_PLANS[scale]
    history_start = now - plan.days * DAY
    catalog = build_catalog(stream(seed, scale, "catalog"), plan, history_start)
    default_rate = catalog.outlets[0].plan.tax_rate_basis_points
    product_factory = ProductFactory(catalog, default_rate)
    products = build_products(
        stream(seed, scale, "products"), product_factory, plan.products, history_start
    )
    customers, walk_ins, named = build_customers(
        stream(seed, scale, "customers"), catalog, plan.customers, history_start
    )
    sellables = [s for r in products.values() if (s := sellable_of(r, default_rate)) is not None]
    discount_id = next(p["id"] for p in products.values() if p["source"] == "SYSTEM")
    sale_factory = SaleFactory(catalog, sellables, discount_id, walk_ins, named)
    sales = generate_history(stream(seed, scale, "sales"), sale_factory, plan, now)
    for register_id, sequence in sale_factory.invoice_sequence.items():
        catalog.records["registers"][register_id]["invoice_sequence"] = sequence

    records = dict(catalog.records)
    records["products"] = products
    records["customers"] = customers
    records["inventory"] = {}
    state = LightspeedState(
        plan,
        catalog,
        records,
        product_factory,
        sale_factory,
        {s.id: index for index, s in enumerate(sellables)},
        VersionCounter(stream(seed, scale, "versions")),
    )
    for entity in ("taxes", "outlets", "registers", "users", "payment_types", "brands"):
        for record in records[entity].values():
            state.publish(entity, record)
    for entity in ("suppliers", "customer_groups", "products", "customers"):
        for record in records[entity].values():
            state.publish(entity, record)
    for sale in sorted(sales, key=lambda s: (s.updated_at, s.sale_date)):
        state.publish_sale(sale)
    _stock_inventory(state, stream(seed, scale, "inventory"))
    return state


def _stock_inventory(state: LightspeedState, rng: random.Random) -> None:
    """One inventory record per stocked product and outlet: opening stock minus sales."""
    sold: dict[tuple[str, int], int] = defaultdict(int)
    for sale in state.sales.values():
        if sale.deleted_at is None and sale.status not in NO_STOCK_MOVEMENT:
            for line in sale.lines:
                sold[(line.product_id, sale.outlet)] += line.quantity
    for product in state.records["products"].values():
        if not product["has_inventory"]:
            continue
        for index, outlet in enumerate(state.catalog.outlets):
            level = rng.randrange(0, 150) - sold.get((product["id"], index), 0)
            record = inventory_record(rng, product["id"], outlet.id, level, product["deleted_at"])
            state.add_record("inventory", record)
