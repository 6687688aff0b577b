"""Malformed records on demand, for quarantine tests (`Simulator.corrupt("square", ...)`).

A corrupted record is re-served as a new version (fresh `updated_at`, version + 1) whose
document breaks the way bad upstream data does: a missing key or a non-integer amount. It
then stays frozen: time travel no longer edits or refunds it. The truth lists malformed ids
and leaves malformed orders out of the daily totals.
"""

from __future__ import annotations

from typing import Any

import orjson

from possync.simulator.square.common import (
    ceil_second,
    compact_json,
    format_ms,
    format_seconds,
    key_ms,
)
from possync.simulator.square.world import World

MALFORMATIONS: dict[str, tuple[str, ...]] = {
    "orders": ("missing_id", "missing_location_id", "non_integer_total"),
    "payments": ("missing_id", "non_integer_total"),
    "customers": ("missing_id", "bad_updated_at"),
}
CORRUPTIBLE = tuple(MALFORMATIONS)


def corrupt(world: World, entity: str, count: int, now: int) -> list[str]:
    """Make `count` more records of `entity` malformed (oldest first); their ids."""
    if entity not in MALFORMATIONS:
        raise ValueError(f"cannot corrupt {entity!r}; choose one of {', '.join(CORRUPTIBLE)}")
    data = world.data
    already = data.malformed[entity]
    chosen: list[str] = []
    tables: dict[str, dict[str, Any]] = {
        "orders": data.orders,
        "payments": data.payments,
        "customers": data.customers,
    }
    table = tables[entity]
    for record_id, record in table.items():
        if len(chosen) == count:
            break
        if record_id in already or (entity == "orders" and record.state == "OPEN"):
            continue
        kinds = MALFORMATIONS[entity]
        kind = kinds[len(already) % len(kinds)]
        already[record_id] = kind
        doc: dict[str, Any] = orjson.loads(record.json)
        created = key_ms(record.created_key)
        if entity == "orders":
            doc["updated_at"] = format_ms(now)
            if "version" in doc:
                doc["version"] += 1
            saved: Any = data.save_order(doc, created, now, None)
        elif entity == "payments":
            doc["updated_at"] = format_ms(now)
            data.save_payment(doc, created, now)
            saved = data.payments[record_id]
        else:
            doc["updated_at"] = format_seconds(ceil_second(now))
            doc["version"] += 1
            data.save_customer(doc, created, ceil_second(now))
            saved = data.customers[record_id]
        saved.json = compact_json(_malform(doc, kind))
        chosen.append(record_id)
    return chosen


def _malform(doc: dict[str, Any], kind: str) -> dict[str, Any]:
    broken = dict(doc)
    if kind == "missing_id":
        del broken["id"]
    elif kind == "missing_location_id":
        del broken["location_id"]
    elif kind == "non_integer_total":
        broken["total_money"] = {"amount": "12.34", "currency": "USD"}
    else:
        broken["updated_at"] = "yesterday"
    return broken
