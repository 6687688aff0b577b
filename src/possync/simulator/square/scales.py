"""How big a simulated Square seller is, and how busy it is per simulated day."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Scale:
    """Sizes of the generated history (orders are sales; returns come on top)."""

    locations: int
    categories: int
    items: int
    customers: int
    orders: int
    days: int


SCALES: dict[str, Scale] = {
    # "tiny" only serves extra stores of a many-store simulator (`--stores`), to keep N=200 small.
    "tiny": Scale(locations=2, categories=4, items=40, customers=80, orders=300, days=30),
    "small": Scale(locations=12, categories=10, items=150, customers=300, orders=2_000, days=60),
    "medium": Scale(
        locations=24, categories=24, items=1_200, customers=6_000, orders=40_000, days=180
    ),
    "large": Scale(
        locations=40, categories=40, items=4_000, customers=40_000, orders=300_000, days=360
    ),
}

# Share of the customers that exist before the generated window starts.
CUSTOMERS_BEFORE_WINDOW = 0.7


@dataclass(frozen=True)
class Activity:
    """Events per simulated day besides new sales (which follow the scale's order rate)."""

    order_edits: float
    refunds: float
    offline_sales: float
    price_changes: float
    item_deletes: float
    variation_deletes: float
    new_items: float
    restocks: float
    waste: float
    new_customers: float
    customer_edits: float


def activity(scale: Scale, *, live: bool) -> Activity:
    """Event rates. History is calm for the catalog; live time travel changes a bit of
    everything every simulated day, so a few-day `advance` exercises every kind of change."""
    sales_per_day = scale.orders / scale.days
    items = scale.items
    floor = 3.0 if live else 0.0
    return Activity(
        order_edits=max(floor, 0.05 * sales_per_day),
        refunds=max(floor, 0.03 * sales_per_day),
        offline_sales=max(floor, 0.02 * sales_per_day),
        price_changes=max(4.0, items * 0.02) if live else items * 0.002,
        item_deletes=max(2.0, items * 0.004) if live else items * 0.0007,
        variation_deletes=max(2.0, items * 0.002) if live else items * 0.0003,
        new_items=max(2.0, items * 0.004) if live else items * 0.001,
        restocks=max(8.0, items * 0.05),
        waste=max(3.0, items * 0.01),
        new_customers=max(floor, scale.customers * (1 - CUSTOMERS_BEFORE_WINDOW) / scale.days),
        customer_edits=max(5.0, scale.customers * 0.01),
    )
