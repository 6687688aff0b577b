"""The simulated seller's mutable state beyond the served records: what can be sold,
who can buy, what is scheduled to happen next, and counters of what happened."""

from __future__ import annotations

import heapq
import random
from collections import Counter
from dataclasses import dataclass, field

from possync.simulator.square.build_orders import Sellable
from possync.simulator.square.model import SquareData
from possync.simulator.square.scales import Scale


@dataclass
class World:
    """Shared by the event handlers (sales, catalog, inventory, customers)."""

    data: SquareData
    rng: random.Random
    scale: Scale
    window_start_ms: int
    merchant_id: str
    location_ids: list[str] = field(default_factory=list)
    location_weights: list[float] = field(default_factory=list)
    trading_weight: float = 1.0
    inactive_from: dict[str, int] = field(default_factory=dict)
    tax_ids: list[str] = field(default_factory=list)
    category_ids: list[str] = field(default_factory=list)
    food_category_ids: set[str] = field(default_factory=set)
    sellables: dict[str, Sellable] = field(default_factory=dict)
    alive_variations: list[str] = field(default_factory=list)
    alive_items: list[str] = field(default_factory=list)
    initial_items: int = 0
    item_counter: int = 0
    customer_ids: list[str] = field(default_factory=list)
    customer_counter: int = 0
    stock_ids: list[str] = field(default_factory=list)
    recent_sales: list[str] = field(default_factory=list)
    refunded: set[str] = field(default_factory=set)
    restock_pending: set[str] = field(default_factory=set)
    heap: list[tuple[int, int, str, str]] = field(default_factory=list)
    event_seq: int = 0
    horizon_ms: int = 0
    happened: Counter[str] = field(default_factory=Counter)

    def schedule(self, at_ms: int, kind: str, arg: str = "") -> None:
        """Queue an event; events run in time order (ties in scheduling order)."""
        self.event_seq += 1
        heapq.heappush(self.heap, (at_ms, self.event_seq, kind, arg))

    def active(self, location_id: str, at_ms: int) -> bool:
        """Whether the location trades at that instant (an inactive one stopped mid-window)."""
        return at_ms < self.inactive_from.get(location_id, 1 << 62)

    def pick_recent_sale(self) -> str | None:
        """A sale completed in roughly the last week (edits and refunds touch recent sales)."""
        if not self.recent_sales:
            return None
        window = max(10, int(7 * self.scale.orders / self.scale.days))
        back = self.rng.randint(0, min(len(self.recent_sales) - 1, window))
        return self.recent_sales[len(self.recent_sales) - 1 - back]

    def pick_customer(self) -> str | None:
        """A customer for a sale (about a third of sales have one)."""
        if not self.customer_ids or self.rng.random() >= 0.35:
            return None
        return self.customer_ids[self.rng.randrange(len(self.customer_ids))]
