"""Ground truth for tests: which records exist, which are deleted, and each outlet's daily
takings, computed from the store's own data (not from what it serves)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from possync.simulator.lightspeed.state import LightspeedState
from possync.simulator.lightspeed.values import cents_to_text

SET_UP_ENTITIES = (
    "outlets",
    "registers",
    "users",
    "taxes",
    "payment_types",
    "brands",
    "suppliers",
    "product_categories",
    "customer_groups",
    "products",
    "customers",
    "inventory",
)


def build_truth(state: LightspeedState, clock: datetime) -> dict[str, Any]:
    """Entities (ids alive and deleted), daily CLOSED-sale totals per outlet, malformed ids."""
    entities: dict[str, dict[str, list[str]]] = {}
    for entity in SET_UP_ENTITIES:
        records = state.records[entity].values()
        entities[entity] = _split((r["id"], r.get("deleted_at") is not None) for r in records)
    entities["sales"] = _split((s.id, s.deleted_at is not None) for s in state.sales.values())
    entities["sale_line_items"] = _split(
        (line.id, sale.deleted_at is not None)
        for sale in state.sales.values()
        for line in sale.lines
    )
    entities["sale_payments"] = _split(
        (payment.id, sale.deleted_at is not None or payment.deleted_at is not None)
        for sale in state.sales.values()
        for payment in sale.payments
    )
    return {
        "entities": entities,
        "daily": _daily(state),
        "malformed": {entity: sorted(ids) for entity, ids in state.malformed.items()},
        "clock": clock.isoformat(),
    }


def _split(pairs: Any) -> dict[str, list[str]]:
    alive: list[str] = []
    deleted: list[str] = []
    for record_id, is_deleted in pairs:
        (deleted if is_deleted else alive).append(record_id)
    return {"alive": sorted(alive), "deleted": sorted(deleted)}


def _daily(state: LightspeedState) -> list[dict[str, Any]]:
    """CLOSED (exactly), not deleted, not malformed sales per outlet and local business day."""
    totals: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    zones = [ZoneInfo(o.plan.time_zone) for o in state.catalog.outlets]
    for sale in state.sales.values():
        if sale.status != "CLOSED" or sale.deleted_at is not None or sale.malformed:
            continue
        outlet = state.catalog.outlets[sale.outlet]
        day = datetime.fromtimestamp(sale.sale_date, zones[sale.outlet]).date().isoformat()
        row = totals[(outlet.id, day)]
        row[0] += 1
        row[1] += sale.total_price_cents
        row[2] += sale.total_tax_cents
        row[3] += sale.total_discount_cents
    return [
        {
            "outlet_id": outlet_id,
            "date": day,
            "count": row[0],
            "total_price": cents_to_text(row[1]),
            "total_tax": cents_to_text(row[2]),
            "total_discount": cents_to_text(row[3]),
        }
        for (outlet_id, day), row in sorted(totals.items())
    ]
