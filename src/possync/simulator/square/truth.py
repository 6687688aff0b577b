"""Ground truth: which ids exist (alive or deleted) and the daily sales per location.

Ids: an order line item is ``"<order_id>:<uid>"``; an inventory count is
``"<catalog_object_id>:<location_id>:<state>"``; everything else is its Square id.
Daily: COMPLETED orders (return orders included, malformed ones left out) by location and
the local date of `created_at` in the location's own time zone; money in integer cents.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from possync.simulator.square.common import MINUTE_MS, key_ms
from possync.simulator.square.model import SquareData

QUARTER_HOUR_MS = 15 * MINUTE_MS


def _alive(ids: list[str], deleted: list[str] | None = None) -> dict[str, list[str]]:
    return {"alive": ids, "deleted": deleted or []}


def entity_truth(data: SquareData) -> dict[str, dict[str, list[str]]]:
    """Per entity (named like possync's square_* tables) the ids alive and deleted."""
    catalog: dict[str, dict[str, list[str]]] = {}
    for name, object_type in (
        ("categories", "CATEGORY"),
        ("catalog_items", "ITEM"),
        ("catalog_item_variations", "ITEM_VARIATION"),
    ):
        objects = [r for r in data.catalog.values() if r.type == object_type]
        catalog[name] = _alive(
            [r.id for r in objects if not r.is_deleted], [r.id for r in objects if r.is_deleted]
        )
    return {
        "locations": _alive(list(data.locations)),
        **catalog,
        "customers": _alive(list(data.customers)),
        "orders": _alive(list(data.orders)),
        "order_line_items": _alive(
            [f"{order.id}:{uid}" for order in data.orders.values() for uid in order.line_uids]
        ),
        "inventory_counts": _alive(list(data.counts)),
        "payments": _alive(list(data.payments)),
        "refunds": _alive(list(data.refunds)),
    }


def daily_truth(data: SquareData) -> list[dict[str, Any]]:
    """COMPLETED orders per location and local business date: count and money totals."""
    days: dict[tuple[str, str], list[int]] = {}
    local_dates: dict[tuple[str, int], str] = {}
    malformed = data.malformed["orders"]
    for order in data.orders.values():
        if order.state != "COMPLETED" or order.id in malformed:
            continue
        created_ms = key_ms(order.created_key)
        # Offsets are whole quarter hours, so one conversion per quarter hour suffices.
        quarter = created_ms // QUARTER_HOUR_MS
        cache_key = (order.location_id, quarter)
        local_date = local_dates.get(cache_key)
        if local_date is None:
            zone = data.locations[order.location_id].zone
            moment = datetime.fromtimestamp(quarter * 900, UTC).astimezone(zone)
            local_date = local_dates[cache_key] = moment.date().isoformat()
        totals = days.setdefault((order.location_id, local_date), [0, 0, 0, 0])
        totals[0] += 1
        totals[1] += order.total
        totals[2] += order.tax
        totals[3] += order.discount
    return [
        {
            "location_id": location_id,
            "date": local_date,
            "count": totals[0],
            "total_money": totals[1],
            "total_tax_money": totals[2],
            "total_discount_money": totals[3],
        }
        for (location_id, local_date), totals in sorted(days.items())
    ]
