"""Time travel: what happens in a Lightspeed store while simulated time moves forward.

Events (new sales, late uploads, returns, voids, open sales closing, deletions, price and
product changes, customer changes, stock receipts) are drawn at rates per hour from the
scale, placed at instants inside the window, and applied in time order. Each one bumps the
version of every record it touches, as the real API does.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from possync.simulator.lightspeed.products import Sellable, customer_record, inventory_record
from possync.simulator.lightspeed.sales import CLOSES_AS, Sale
from possync.simulator.lightspeed.state import LightspeedState
from possync.simulator.lightspeed.values import timestamp_from_epoch

RECENT_SALES = 2_000  # edits pick among the most recent sales, as real edits do
CLOSABLE = {*CLOSES_AS, "SAVED"}


class TimeTraveller:
    """Applies the events of a time window to a store (the caller holds the store's lock)."""

    def __init__(self, state: LightspeedState, rng: random.Random) -> None:
        self.state = state
        self.rng = rng
        self._inventory_changes = 0
        per_hour = state.plan.sales_per_hour
        self.events: dict[str, tuple[float, Callable[[int], bool]]] = {
            "new_sales": (per_hour, self._new_sale),
            "late_sales": (per_hour * 0.05, self._late_sale),
            "returns": (per_hour * 0.03, self._return),
            "voids": (per_hour * 0.03, self._void),
            "closed_open_sales": (per_hour * 0.05, self._close_open_sale),
            "deleted_sales": (per_hour * 0.01, self._delete_sale),
            "price_changes": (1 + per_hour * 0.02, self._change_price),
            "new_products": (0.5, self._new_product),
            "deleted_products": (0.2, self._delete_product),
            "new_customers": (per_hour * 0.1, self._new_customer),
            "updated_customers": (per_hour * 0.1, self._update_customer),
            "deleted_customers": (0.2, self._delete_customer),
            "stock_receipts": (1.0, self._receive_stock),
        }

    def advance(self, start: int, end: int) -> dict[str, int]:
        """Apply the events of (start, end]; counts of what happened, by kind."""
        counts = dict.fromkeys(self.events, 0)
        counts["inventory_changes"] = 0
        span = end - start
        if span <= 0:
            return counts
        planned: list[tuple[int, int, str]] = []
        for kind, (per_hour, _) in self.events.items():
            expected = per_hour * span / 3600
            number = int(expected) + (1 if self.rng.random() < expected % 1 else 0)
            planned.extend(
                (start + 1 + self.rng.randrange(span), len(planned) + i, kind)
                for i in range(number)
            )
        for when, _, kind in sorted(planned):
            if self.events[kind][1](when):
                counts[kind] += 1
        counts["inventory_changes"] = self._inventory_changes
        self._inventory_changes = 0
        return counts

    def _new_sale(self, when: int, sale_date: int | None = None) -> bool:
        outlet = self.rng.randrange(len(self.state.catalog.outlets))
        status = self.rng.choices(("CLOSED", "SAVED", "LAYBY", "ONACCOUNT"), (90, 4, 3, 3))[0]
        sale = self.state.sale_factory.new_sale(self.rng, outlet, sale_date or when, when, status)
        self.state.publish_sale(sale)
        self._move_stock(sale, -1, when)
        return True

    def _late_sale(self, when: int) -> bool:
        # Rung up on an offline register hours or days ago, uploaded now.
        return self._new_sale(when, sale_date=when - self.rng.randrange(3600, 5 * 86_400))

    def _recent_sale(self, accept: Callable[[Sale], bool]) -> Sale | None:
        recent = self.state.sales_by_date[-RECENT_SALES:]
        for _ in range(50):
            sale = self.state.sales[self.rng.choice(recent)[1]]
            if sale.deleted_at is None and sale.malformed is None and accept(sale):
                return sale
        return None

    def _return(self, when: int) -> bool:
        original = self._recent_sale(lambda s: s.status == "CLOSED" and s.return_for is None)
        if original is None:
            return False
        sale = self.state.sale_factory.return_of(self.rng, original, when)
        original.updated_at = when
        self.state.publish_sale(original)
        self.state.publish_sale(sale)
        self._move_stock(sale, -1, when)
        return True

    def _void(self, when: int) -> bool:
        sale = self._recent_sale(
            lambda s: s.status == "CLOSED" and s.return_for is None and not s.return_ids
        )
        if sale is None:
            return False
        self.state.sale_factory.void(sale, when)
        self.state.publish_sale(sale)
        self._move_stock(sale, 1, when)
        return True

    def _close_open_sale(self, when: int) -> bool:
        sale = self._recent_sale(lambda s: s.status in CLOSABLE)
        if sale is None:
            return False
        was_saved = sale.status == "SAVED"
        self.state.sale_factory.close(self.rng, sale, CLOSES_AS.get(sale.status, "CLOSED"), when)
        self.state.publish_sale(sale)
        if was_saved:  # a parked sale only takes stock when it completes
            self._move_stock(sale, -1, when)
        return True

    def _delete_sale(self, when: int) -> bool:
        sale = self._recent_sale(lambda s: s.status in ("SAVED", "VOIDED"))
        if sale is None:
            return False
        self.state.sale_factory.delete(sale, when)
        self.state.publish_sale(sale)
        return True

    def _move_stock(self, sale: Sale, direction: int, when: int) -> None:
        if sale.status in ("SAVED", "VOIDED") and direction < 0:
            return
        outlet_id = self.state.catalog.outlets[sale.outlet].id
        for line in sale.lines:
            inventory_id = self.state.inventory_by_key.get((line.product_id, outlet_id))
            if inventory_id is None:
                continue
            record = self.state.records["inventory"][inventory_id]
            record["inventory_level"] += direction * line.quantity
            record["current_amount"] = record["inventory_level"]
            self.state.publish("inventory", record)
            self._inventory_changes += 1

    def _pick_sellable(self) -> Sellable | None:
        sellables = self.state.sale_factory.sellables
        return self.rng.choice(sellables) if len(sellables) > 1 else None

    def _change_price(self, when: int) -> bool:
        sellable = self._pick_sellable()
        if sellable is None:
            return False
        record = self.state.records["products"][sellable.id]
        old_cents = round(record["price_including_tax"] * 100)
        new_cents = max(old_cents * self.rng.choice((90, 95, 105, 110, 120)) // 100, 100)
        self.state.products.set_price(record, new_cents)
        record["updated_at"] = timestamp_from_epoch(when)
        self.state.publish("products", record)
        sellable.price_units = round(record["price_excluding_tax"] * 100_000)
        return True

    def _new_product(self, when: int) -> bool:
        record = self.state.products.single(self.rng, when)
        self.state.add_record("products", record)
        for outlet in self.state.catalog.outlets:
            level = self.rng.randrange(5, 50)
            self.state.add_record(
                "inventory", inventory_record(self.rng, record["id"], outlet.id, level, None)
            )
            self._inventory_changes += 1
        price = round(record["price_excluding_tax"] * 100_000)
        cost = round(record["supply_price"] * 100) * 1_000
        self.state.sellable_index[record["id"]] = len(self.state.sale_factory.sellables)
        self.state.sale_factory.sellables.append(Sellable(record["id"], price, cost))
        return True

    def _delete_product(self, when: int) -> bool:
        sellable = self._pick_sellable()
        if sellable is None:
            return False
        sellables, index = self.state.sale_factory.sellables, self.state.sellable_index
        position = index.pop(sellable.id)
        last = sellables.pop()
        if last is not sellable:
            sellables[position] = last
            index[last.id] = position
        stamp = timestamp_from_epoch(when)
        record = self.state.records["products"][sellable.id]
        record["deleted_at"] = record["updated_at"] = stamp
        self.state.publish("products", record)
        for outlet in self.state.catalog.outlets:
            inventory_id = self.state.inventory_by_key.get((sellable.id, outlet.id))
            if inventory_id is not None:
                self.state.records["inventory"][inventory_id]["deleted_at"] = stamp
                self.state.publish("inventory", self.state.records["inventory"][inventory_id])
                self._inventory_changes += 1
        return True

    def _new_customer(self, when: int) -> bool:
        groups = self.state.records["customer_groups"]
        group = next(g for g in groups.values() if g["deleted_at"] is None)
        record = customer_record(self.rng, group["id"], when, walk_in=False)
        self.state.add_record("customers", record)
        self.state.sale_factory.named_customers.append(record["id"])
        return True

    def _update_customer(self, when: int) -> bool:
        named = self.state.sale_factory.named_customers
        record = self.state.records["customers"][self.rng.choice(named)]
        record["mobile"] = f"+64 22 {self.rng.randrange(100_000, 999_999)}"
        record["year_to_date"] = round(
            record["year_to_date"] + self.rng.randrange(100, 20_000) / 100, 2
        )
        record["updated_at"] = timestamp_from_epoch(when)
        self.state.publish("customers", record)
        return True

    def _delete_customer(self, when: int) -> bool:
        named = self.state.sale_factory.named_customers
        if len(named) < 2:
            return False
        position = self.rng.randrange(len(named))
        named[position], named[-1] = named[-1], named[position]
        record = self.state.records["customers"][named.pop()]
        record["deleted_at"] = record["updated_at"] = timestamp_from_epoch(when)
        self.state.publish("customers", record)
        return True

    def _receive_stock(self, when: int) -> bool:
        inventory = self.state.records["inventory"]
        keys = list(self.state.inventory_by_key.values())
        for inventory_id in self.rng.sample(keys, k=min(5, len(keys))):
            record = inventory[inventory_id]
            if record["deleted_at"] is not None:
                continue
            record["inventory_level"] += self.rng.randrange(5, 40)
            record["current_amount"] = record["inventory_level"]
            self.state.publish("inventory", record)
            self._inventory_changes += 1
        return True
