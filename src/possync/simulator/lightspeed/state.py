"""The Lightspeed store's data: records, sales, one global version counter and the feeds.

Every change goes through `publish`/`publish_sale`, which takes the next version from the
store-wide counter (as the real API does: global, increasing, not contiguous) and re-serializes
the record into its entity's feed.
"""

from __future__ import annotations

import random
import threading
from bisect import insort
from typing import Any

from possync.simulator.lightspeed.catalog import Catalog, Record
from possync.simulator.lightspeed.feed import VersionFeed
from possync.simulator.lightspeed.products import ProductFactory, Sellable
from possync.simulator.lightspeed.sale_factory import SaleFactory
from possync.simulator.lightspeed.sales import MALFORMATIONS, Sale, SaleContext, sale_body
from possync.simulator.lightspeed.scales import ScalePlan
from possync.simulator.lightspeed.values import serialize

VERSIONED_ENTITIES = (
    "taxes",
    "outlets",
    "registers",
    "users",
    "payment_types",
    "brands",
    "suppliers",
    "customer_groups",
    "products",
    "customers",
    "sales",
    "inventory",
)
# A field per entity to break with a non-number (the other malformation drops `id`).
NUMERIC_FIELD = {"products": "supply_price", "customers": "balance", "inventory": "inventory_level"}
CORRUPTIBLE = ("sales", *NUMERIC_FIELD)


class VersionCounter:
    """The store-wide version: starts near real values (~4.7e10, so BIGINT), random steps."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self.value = 47_000_000_000 + rng.randrange(10_000_000)

    def next(self) -> int:
        """The next version (strictly greater than every earlier one)."""
        self.value += self._rng.randint(1, 9)
        return self.value


class LightspeedState:
    """All data of one simulated retailer. Callers hold `lock` around reads and writes."""

    def __init__(
        self,
        plan: ScalePlan,
        catalog: Catalog,
        records: dict[str, dict[str, Record]],
        products: ProductFactory,
        sale_factory: SaleFactory,
        sellable_index: dict[str, int],
        counter: VersionCounter,
    ) -> None:
        self.lock = threading.RLock()
        self.plan = plan
        self.catalog = catalog
        self.records = records
        self.products = products
        self.sale_factory = sale_factory
        self.sellable_index = sellable_index
        self.counter = counter
        self.context = SaleContext(catalog.outlets, catalog.payment_types)
        self.feeds = {entity: VersionFeed() for entity in VERSIONED_ENTITIES}
        self.sales: dict[str, Sale] = {}
        self.sales_by_date: list[tuple[int, str]] = []
        self.inventory_by_key: dict[tuple[str, str], str] = {}
        self.malformed: dict[str, dict[str, str]] = {entity: {} for entity in CORRUPTIBLE}

    @property
    def register_count(self) -> int:
        """Registers not deleted: they set the rate limit."""
        return sum(1 for r in self.records["registers"].values() if r["deleted_at"] is None)

    def publish(self, entity: str, record: Record) -> None:
        """Give a record the next version and serve its new state."""
        record["version"] = self.counter.next()
        document: dict[str, Any] = record
        kind = self.malformed.get(entity, {}).get(record["id"])
        if kind is not None:
            document = dict(record)
            if kind == "missing_id":
                del document["id"]
            else:
                document[NUMERIC_FIELD[entity]] = "n/a"
        self.feeds[entity].put(
            record["id"],
            record["version"],
            serialize(document),
            deleted=record.get("deleted_at") is not None,
        )

    def add_record(self, entity: str, record: Record) -> None:
        """A new record of a set-up entity (product, customer, inventory ...)."""
        self.records[entity][record["id"]] = record
        if entity == "inventory":
            self.inventory_by_key[(record["product_id"], record["outlet_id"])] = record["id"]
        self.publish(entity, record)

    def publish_sale(self, sale: Sale) -> None:
        """Serve a new or changed sale (deleted sales stay in /sales, with deleted_at)."""
        if sale.id not in self.sales:
            self.sales[sale.id] = sale
            insort(self.sales_by_date, (sale.sale_date, sale.id))
        sale.version = self.counter.next()
        self.feeds["sales"].put(sale.id, sale.version, sale_body(sale, self.context), deleted=False)

    def sellable(self, product_id: str) -> Sellable | None:
        """The register's view of a product, if it is still for sale."""
        index = self.sellable_index.get(product_id)
        return None if index is None else self.sale_factory.sellables[index]

    def corrupt(self, entity: str, count: int) -> list[str]:
        """Make `count` records malformed (oldest first), each re-served with a new version."""
        if entity not in CORRUPTIBLE:
            raise ValueError(f"cannot corrupt {entity!r}; choose one of {', '.join(CORRUPTIBLE)}")
        chosen: list[str] = []
        already = self.malformed[entity]
        if entity == "sales":
            candidates: Any = (s for s in self.sales.values() if s.id not in already)
        else:
            candidates = (r for r in self.records[entity].values() if r["id"] not in already)
        for item in candidates:
            if len(chosen) == count:
                break
            record_id = item.id if isinstance(item, Sale) else item["id"]
            kinds = MALFORMATIONS if entity == "sales" else ("missing_id", "non_numeric")
            kind = kinds[len(already) % len(kinds)]
            already[record_id] = kind
            if isinstance(item, Sale):
                item.malformed = kind
                self.publish_sale(item)
            else:
                self.publish(entity, item)
            chosen.append(record_id)
        return chosen
