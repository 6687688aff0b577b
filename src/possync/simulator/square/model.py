"""The Square store's records, pre-serialized and indexed by time.

Every record keeps its JSON bytes, so a page is a join of bytes. Each time index holds
``(key, id)`` pairs in key order; a change appends a new pair and leaves the old one behind
as *stale* (its key no longer matches the record), which readers skip. A page therefore
costs O(log n + page size + stale entries passed).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from possync.simulator.square.common import compact_json, format_ms, make_key


class TimeIndex:
    """Keys in ascending order with the record id each belongs to."""

    __slots__ = ("ids", "keys")

    def __init__(self) -> None:
        self.keys: list[int] = []
        self.ids: list[str] = []

    def add(self, key: int, record_id: str) -> None:
        """Insert (usually an append: changes happen in time order)."""
        keys = self.keys
        if not keys or key > keys[-1]:
            keys.append(key)
            self.ids.append(record_id)
        else:
            at = bisect_right(keys, key)
            keys.insert(at, key)
            self.ids.insert(at, record_id)

    def ascending(self, low: int, high: int) -> Iterator[tuple[int, str]]:
        """Entries with low <= key <= high, oldest first."""
        keys, ids = self.keys, self.ids
        at, end = bisect_left(keys, low), len(keys)
        while at < end:
            key = keys[at]
            if key > high:
                return
            yield key, ids[at]
            at += 1

    def descending(self, low: int, high: int) -> Iterator[tuple[int, str]]:
        """Entries with low <= key <= high, newest first."""
        keys, ids = self.keys, self.ids
        at = bisect_right(keys, high) - 1
        while at >= 0:
            key = keys[at]
            if key < low:
                return
            yield key, ids[at]
            at -= 1


@dataclass(slots=True)
class Location:
    """A location: its JSON document and its time zone."""

    id: str
    name: str
    zone: ZoneInfo
    doc: dict[str, Any]


@dataclass(slots=True)
class OrderRecord:
    """An order's served bytes plus what searches filter and sort on."""

    id: str
    location_id: str
    state: str
    customer_id: str | None
    source_name: str
    version: int | None
    created_key: int
    updated_key: int
    closed_key: int
    total: int
    tax: int
    discount: int
    line_uids: tuple[str, ...]
    json: bytes


@dataclass(slots=True)
class TimedRecord:
    """A payment, refund or customer: bytes, location, status, kind and its two time keys."""

    id: str
    location_id: str
    status: str
    kind: str
    created_key: int
    updated_key: int
    json: bytes
    sort_name: tuple[str, str, str] = ("", "", "")


@dataclass(slots=True)
class CatalogRecord:
    """A catalog object. Items embed their variations when rendered."""

    id: str
    type: str
    ordinal: int
    is_deleted: bool
    updated_key: int
    doc: dict[str, Any]
    json: bytes = b""
    parent_id: str | None = None
    child_ids: list[str] = field(default_factory=list)


@dataclass(slots=True)
class CountRecord:
    """An inventory count keyed by (catalog object, location, state)."""

    id: str
    catalog_object_id: str
    location_id: str
    state: str
    quantity: int
    key: int
    json: bytes


class SquareData:
    """All records of one simulated Square seller, with the indexes the endpoints read."""

    def __init__(self) -> None:
        self.seq = 0
        self.locations: dict[str, Location] = {}
        self.orders: dict[str, OrderRecord] = {}
        self.orders_created: dict[str, TimeIndex] = {}
        self.orders_updated: dict[str, TimeIndex] = {}
        self.orders_closed: dict[str, TimeIndex] = {}
        self.payments: dict[str, TimedRecord] = {}
        self.payments_created: dict[str, TimeIndex] = {}
        self.payments_updated: dict[str, TimeIndex] = {}
        self.refunds: dict[str, TimedRecord] = {}
        self.refunds_created = TimeIndex()
        self.refunds_updated = TimeIndex()
        self.customers: dict[str, TimedRecord] = {}
        self.customers_created = TimeIndex()
        self.customers_updated = TimeIndex()
        self._customer_names: list[tuple[str, str, str]] | None = None
        self.catalog: dict[str, CatalogRecord] = {}
        self.catalog_order: list[str] = []
        self.catalog_updated = TimeIndex()
        self.catalog_latest_ms = 0
        self.counts: dict[str, CountRecord] = {}
        self.counts_index = TimeIndex()
        # entity → id → how it was broken (see corrupt.py); such records stay frozen.
        self.malformed: dict[str, dict[str, str]] = {"orders": {}, "payments": {}, "customers": {}}

    def next_seq(self) -> int:
        """A new change number (orders keys within one millisecond)."""
        self.seq += 1
        return self.seq

    def add_location(self, location: Location) -> None:
        """Register a location and its empty indexes."""
        self.locations[location.id] = location
        for index in (
            self.orders_created,
            self.orders_updated,
            self.orders_closed,
            self.payments_created,
            self.payments_updated,
        ):
            index[location.id] = TimeIndex()

    def save_order(
        self, order: dict[str, Any], created_ms: int, updated_ms: int, closed_ms: int | None
    ) -> OrderRecord:
        """Store a new order or a new version of one (created_at never changes)."""
        order_id, location_id = order["id"], order["location_id"]
        seq = self.next_seq()
        old = self.orders.get(order_id)
        if old is None:
            created_key = make_key(created_ms, seq)
            self.orders_created[location_id].add(created_key, order_id)
            closed_key = 0
        else:
            created_key, closed_key = old.created_key, old.closed_key
        if closed_ms is not None and closed_key == 0:
            closed_key = make_key(closed_ms, seq)
            self.orders_closed[location_id].add(closed_key, order_id)
        updated_key = make_key(updated_ms, seq)
        self.orders_updated[location_id].add(updated_key, order_id)
        record = OrderRecord(
            id=order_id,
            location_id=location_id,
            state=order["state"],
            customer_id=order.get("customer_id"),
            source_name=order["source"]["name"],
            version=order.get("version"),
            created_key=created_key,
            updated_key=updated_key,
            closed_key=closed_key,
            total=order["total_money"]["amount"],
            tax=order["total_tax_money"]["amount"],
            discount=order["total_discount_money"]["amount"],
            line_uids=tuple(line["uid"] for line in order.get("line_items", ())),
            json=compact_json(order),
        )
        self.orders[order_id] = record
        return record

    def save_payment(self, payment: dict[str, Any], created_ms: int, updated_ms: int) -> None:
        """Store a payment or a new version of it."""
        self._save_timed(
            self.payments,
            payment,
            payment["status"],
            payment["source_type"],
            created_ms,
            updated_ms,
            self.payments_created[payment["location_id"]],
            self.payments_updated[payment["location_id"]],
        )

    def save_refund(self, refund: dict[str, Any], created_ms: int, updated_ms: int) -> None:
        """Store a refund or a new version of it."""
        self._save_timed(
            self.refunds,
            refund,
            refund["status"],
            refund["destination_type"],
            created_ms,
            updated_ms,
            self.refunds_created,
            self.refunds_updated,
        )

    def save_customer(self, customer: dict[str, Any], created_ms: int, updated_ms: int) -> None:
        """Store a customer or a new version of it (the name order is rebuilt lazily)."""
        record = self._save_timed(
            self.customers,
            customer,
            "",
            "",
            created_ms,
            updated_ms,
            self.customers_created,
            self.customers_updated,
        )
        record.sort_name = (
            customer.get("given_name", ""),
            customer.get("family_name", ""),
            record.id,
        )
        self._customer_names = None

    def customer_names(self) -> list[tuple[str, str, str]]:
        """(given_name, family_name, id) of every customer, sorted: the DEFAULT order."""
        if self._customer_names is None:
            self._customer_names = sorted(r.sort_name for r in self.customers.values())
        return self._customer_names

    def _save_timed(
        self,
        table: dict[str, TimedRecord],
        doc: dict[str, Any],
        status: str,
        kind: str,
        created_ms: int,
        updated_ms: int,
        created_index: TimeIndex,
        updated_index: TimeIndex,
    ) -> TimedRecord:
        record_id = doc["id"]
        seq = self.next_seq()
        old = table.get(record_id)
        if old is None:
            created_key = make_key(created_ms, seq)
            created_index.add(created_key, record_id)
        else:
            created_key = old.created_key
        updated_key = make_key(updated_ms, seq)
        updated_index.add(updated_key, record_id)
        record = TimedRecord(
            id=record_id,
            location_id=doc.get("location_id", ""),
            status=status,
            kind=kind,
            created_key=created_key,
            updated_key=updated_key,
            json=compact_json(doc),
        )
        table[record_id] = record
        return record

    def save_catalog(self, record: CatalogRecord, updated_ms: int) -> None:
        """Stamp a catalog object with `updated_at` and version (= epoch ms) and index it."""
        if record.id not in self.catalog:
            record.ordinal = len(self.catalog_order)
            self.catalog_order.append(record.id)
            self.catalog[record.id] = record
        record.doc["updated_at"] = format_ms(updated_ms)
        record.doc["version"] = updated_ms
        record.doc["is_deleted"] = record.is_deleted
        record.updated_key = make_key(updated_ms, self.next_seq())
        self.catalog_updated.add(record.updated_key, record.id)
        self.catalog_latest_ms = max(self.catalog_latest_ms, updated_ms)
        record.json = compact_json(self.render_catalog(record))

    def render_catalog(self, record: CatalogRecord) -> dict[str, Any]:
        """The object as served; an item carries its variations (all of them once deleted)."""
        if record.type != "ITEM":
            return record.doc
        children = [self.catalog[child] for child in record.child_ids]
        variations = [c.doc for c in children if record.is_deleted or not c.is_deleted]
        item_data = dict(record.doc["item_data"], variations=variations)
        return dict(record.doc, item_data=item_data)

    def save_count(
        self, catalog_object_id: str, location_id: str, state: str, quantity: int, at_ms: int
    ) -> CountRecord:
        """Set an inventory count (calculated_at = at_ms) and index it."""
        count_id = f"{catalog_object_id}:{location_id}:{state}"
        key = make_key(at_ms, self.next_seq())
        doc = {
            "catalog_object_id": catalog_object_id,
            "catalog_object_type": "ITEM_VARIATION",
            "state": state,
            "location_id": location_id,
            "quantity": str(quantity),
            "calculated_at": format_ms(at_ms),
        }
        record = CountRecord(
            id=count_id,
            catalog_object_id=catalog_object_id,
            location_id=location_id,
            state=state,
            quantity=quantity,
            key=key,
            json=compact_json(doc),
        )
        self.counts[count_id] = record
        self.counts_index.add(key, count_id)
        return record
