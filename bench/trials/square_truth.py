"""Comparing what possync stored for Square with the simulator's ground truth."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import psycopg

# Entity → SQL giving (truth id, deleted?) for every stored row.
STORED_IDS = {
    "locations": "SELECT id, deleted_at IS NOT NULL FROM square_locations",
    "categories": "SELECT id, deleted_at IS NOT NULL FROM square_categories",
    "catalog_items": "SELECT id, deleted_at IS NOT NULL FROM square_catalog_items",
    "catalog_item_variations": (
        "SELECT id, deleted_at IS NOT NULL FROM square_catalog_item_variations"
    ),
    "customers": "SELECT id, deleted_at IS NOT NULL FROM square_customers",
    "orders": "SELECT id, deleted_at IS NOT NULL FROM square_orders",
    "order_line_items": (
        "SELECT order_id || ':' || uid, deleted_at IS NOT NULL FROM square_order_line_items"
    ),
    "inventory_counts": (
        "SELECT catalog_object_id || ':' || location_id || ':' || state, deleted_at IS NOT NULL "
        "FROM square_inventory_counts"
    ),
    "payments": "SELECT id, deleted_at IS NOT NULL FROM square_payments",
    "refunds": "SELECT id, deleted_at IS NOT NULL FROM square_refunds",
}
DAILY_MONEY = ("total_money", "total_tax_money", "total_discount_money")


def stored_ids(conn: psycopg.Connection[Any], entity: str) -> tuple[set[str], set[str]]:
    """(alive ids, deleted ids) of an entity, in the truth's id format."""
    rows = conn.execute(STORED_IDS[entity]).fetchall()
    return {r[0] for r in rows if not r[1]}, {r[0] for r in rows if r[1]}


def square_daily(conn: psycopg.Connection[Any]) -> dict[tuple[str, str], dict[str, int]]:
    """The daily view, keyed like the truth (location, local business date)."""
    rows = conn.execute(
        """SELECT location_id, business_date::text, order_count, total_money, total_tax_money,
                  total_discount_money FROM square_daily_sales_summary"""
    ).fetchall()
    result: dict[tuple[str, str], dict[str, int]] = {}
    for location_id, day, count, *money in rows:
        totals = result.setdefault((location_id, day), dict.fromkeys(("count", *DAILY_MONEY), 0))
        totals["count"] += count
        for name, amount in zip(DAILY_MONEY, money, strict=True):
            totals[name] += amount
    return result


def truth_daily(truth: dict[str, Any]) -> dict[tuple[str, str], dict[str, int]]:
    return {
        (day["location_id"], day["date"]): {
            "count": day["count"],
            **{name: int(day[name]) for name in DAILY_MONEY},
        }
        for day in truth["daily"]
    }


def assert_square_matches_truth(
    conn: psycopg.Connection[Any], truth: dict[str, Any], *, ignore: set[str] | None = None
) -> None:
    """Every entity's alive and deleted ids, and every location-day's count and money."""
    mismatches: dict[str, Any] = defaultdict(dict)
    assert set(truth["entities"]) == set(STORED_IDS)
    # Malformed records go to quarantine, never to their table (nor do their line items).
    malformed = {entity: set(ids) for entity, ids in (truth.get("malformed") or {}).items()}
    bad_orders = malformed.get("orders", set())
    for entity, ids in truth["entities"].items():
        alive, deleted = stored_ids(conn, entity)
        alive -= ignore or set()
        deleted -= ignore or set()
        skip = malformed.get(entity, set())
        if entity == "order_line_items":
            skip = {i for i in ids["alive"] if i.split(":", 1)[0] in bad_orders}
        expected_alive, expected_deleted = set(ids["alive"]) - skip, set(ids["deleted"]) - skip
        if alive != expected_alive:
            mismatches[entity]["missing"] = sorted(expected_alive - alive)[:3]
            mismatches[entity]["extra"] = sorted(alive - expected_alive)[:3]
        if deleted != expected_deleted:
            mismatches[entity]["deleted_missing"] = sorted(expected_deleted - deleted)[:3]
            mismatches[entity]["deleted_extra"] = sorted(deleted - expected_deleted)[:3]
    assert not mismatches, f"ids differ from truth: {dict(mismatches)}"
    stored, expected = square_daily(conn), truth_daily(truth)
    assert stored.keys() == expected.keys(), (
        f"location-days differ: missing {sorted(expected.keys() - stored.keys())[:5]}, "
        f"extra {sorted(stored.keys() - expected.keys())[:5]}"
    )
    differing = {k: (stored[k], expected[k]) for k in expected if stored[k] != expected[k]}
    assert not differing, f"daily totals differ: {list(differing.items())[:3]}"
