"""Running simulated time: plan random events for an interval, then apply them in order.

The initial history and every later `advance` use the same machinery, so the generated data
looks like what time travel produces (late offline sales, refunds, edits, catalog churn).
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Callable
from datetime import UTC, datetime

from possync.simulator.square import catalog_events, sales
from possync.simulator.square.common import DAY_MS, HOUR_MS
from possync.simulator.square.scales import Activity
from possync.simulator.square.world import World

Handler = Callable[[World, int, str], None]

HANDLERS: dict[str, Handler] = {
    "sale": sales.on_sale,
    "quick_sale": sales.on_quick_sale,
    "add_line": sales.on_add_line,
    "close": sales.on_close,
    "offline_sale": sales.on_offline_sale,
    "order_edit": sales.on_order_edit,
    "refund": sales.on_refund,
    "refund_complete": sales.on_refund_complete,
    "price_change": catalog_events.on_price_change,
    "item_delete": catalog_events.on_item_delete,
    "variation_delete": catalog_events.on_variation_delete,
    "new_item": catalog_events.on_new_item,
    "restock": catalog_events.on_restock,
    "restock_count": catalog_events.on_restock,
    "waste": catalog_events.on_waste,
    "new_customer": catalog_events.on_new_customer,
    "customer_edit": catalog_events.on_customer_edit,
}

# Relative traffic by local hour: busy from 8:00 to 20:00, quiet at night.
HOUR_WEIGHTS = (
    (0.03,) * 6 + (0.25,) * 2 + (1.0,) * 12 + (0.25,) * 2 + (0.03,) * 2
)  # fmt: skip
DAY_WEIGHT = sum(HOUR_WEIGHTS)


def poisson(rng: random.Random, mean: float) -> int:
    """A Poisson-distributed count (normal approximation for large means)."""
    if mean <= 0:
        return 0
    if mean > 30:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, product, count = math.exp(-mean), rng.random(), 0
    while product > limit:
        product *= rng.random()
        count += 1
    return count


def plan_interval(world: World, start_ms: int, end_ms: int, rates: Activity) -> None:
    """Schedule the spontaneous events of [start_ms, end_ms): walk-in sales per location
    (following local opening hours) and the seller-wide events at their daily rates."""
    if end_ms <= start_ms:
        return
    rng = world.rng
    # Normalised so the history holds about `scale.orders` sales across all locations.
    per_hour = world.scale.orders / (world.scale.days * DAY_WEIGHT * world.trading_weight)
    for location_id, weight in zip(world.location_ids, world.location_weights, strict=True):
        zone = world.data.locations[location_id].zone
        hour = start_ms - start_ms % HOUR_MS
        offset_day, offset = -1, 0
        while hour < end_ms:
            if hour // DAY_MS != offset_day:
                offset_day = hour // DAY_MS
                moment = datetime.fromtimestamp(offset_day * 86_400 + 43_200, UTC)
                utc_offset = moment.astimezone(zone).utcoffset()
                offset = int(utc_offset.total_seconds() * 1000) if utc_offset else 0
            low, high = max(hour, start_ms), min(hour + HOUR_MS, end_ms)
            local_hour = (hour + offset) // HOUR_MS % 24
            mean = per_hour * weight * HOUR_WEIGHTS[local_hour] * (high - low) / HOUR_MS
            for _ in range(poisson(rng, mean)):
                world.schedule(rng.randrange(low, high), "sale", location_id)
            hour += HOUR_MS
    seller_wide = {
        "order_edit": rates.order_edits,
        "refund": rates.refunds,
        "offline_sale": rates.offline_sales,
        "price_change": rates.price_changes,
        "item_delete": rates.item_deletes,
        "variation_delete": rates.variation_deletes,
        "new_item": rates.new_items,
        "restock": rates.restocks,
        "waste": rates.waste,
        "new_customer": rates.new_customers,
        "customer_edit": rates.customer_edits,
    }
    for kind, per_day in seller_wide.items():
        for _ in range(poisson(rng, per_day * (end_ms - start_ms) / DAY_MS)):
            world.schedule(rng.randrange(start_ms, end_ms), kind)


def simulate(world: World, start_ms: int, end_ms: int, rates: Activity) -> None:
    """Plan and apply [start_ms, end_ms) a day at a time (keeps the event queue short)."""
    at = start_ms
    while at < end_ms:
        step_end = min(end_ms, at + DAY_MS)
        plan_interval(world, at, step_end, rates)
        run_until(world, step_end)
        at = step_end
    world.horizon_ms = max(world.horizon_ms, end_ms)


def run_until(world: World, end_ms: int) -> None:
    """Apply every scheduled event before `end_ms`, oldest first."""
    heap = world.heap
    while heap and heap[0][0] < end_ms:
        at, _, kind, arg = heapq.heappop(heap)
        HANDLERS[kind](world, at, arg)
    world.horizon_ms = max(world.horizon_ms, end_ms)
