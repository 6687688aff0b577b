"""Comparing what possync stored with the simulator's ground truth."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

import psycopg
from psycopg import sql

LIGHTSPEED_MONEY = ("total_price", "total_tax", "total_discount")


def stored_ids(conn: psycopg.Connection[Any], table: str) -> tuple[set[str], set[str]]:
    """(alive ids, deleted ids) in a table."""
    rows = conn.execute(
        sql.SQL("SELECT id, deleted_at IS NOT NULL FROM {}").format(sql.Identifier(table))
    ).fetchall()
    alive = {r[0] for r in rows if not r[1]}
    deleted = {r[0] for r in rows if r[1]}
    return alive, deleted


def lightspeed_daily(conn: psycopg.Connection[Any]) -> dict[tuple[str, str], dict[str, Any]]:
    rows = conn.execute(
        """SELECT outlet_id, business_date::text, transaction_count, total_revenue, total_tax,
                  total_discount FROM daily_sales_summary"""
    ).fetchall()
    return {
        (r[0], r[1]): {
            "count": r[2],
            "total_price": Decimal(r[3]).quantize(Decimal("0.01")),
            "total_tax": Decimal(r[4]).quantize(Decimal("0.01")),
            "total_discount": Decimal(r[5]).quantize(Decimal("0.01")),
        }
        for r in rows
    }


def truth_daily(truth: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    result: dict[tuple[str, str], dict[str, Any]] = {}
    for day in truth["daily"]:
        result[(day["outlet_id"], day["date"])] = {
            "count": day["count"],
            **{k: Decimal(day[k]).quantize(Decimal("0.01")) for k in LIGHTSPEED_MONEY},
        }
    return result


def assert_lightspeed_matches_truth(conn: psycopg.Connection[Any], truth: dict[str, Any]) -> None:
    """Every entity's alive and deleted ids, and every outlet-day's count and money."""
    mismatches: dict[str, Any] = defaultdict(dict)
    malformed = {k: set(v) for k, v in (truth.get("malformed") or {}).items()}
    malformed["sale_line_items"] = quarantined_child_ids(conn, "sales", "line_items")
    malformed["sale_payments"] = quarantined_child_ids(conn, "sales", "payments")
    for entity, ids in truth["entities"].items():
        alive, deleted = stored_ids(conn, f"lightspeed_{entity}")
        expected_alive = set(ids["alive"]) - malformed.get(entity, set())
        expected_deleted = set(ids["deleted"]) - malformed.get(entity, set())
        if alive != expected_alive:
            mismatches[entity]["missing"] = len(expected_alive - alive)
            mismatches[entity]["extra"] = len(alive - expected_alive)
        if deleted != expected_deleted:
            mismatches[entity]["deleted_missing"] = len(expected_deleted - deleted)
            mismatches[entity]["deleted_extra"] = len(deleted - expected_deleted)
    assert not mismatches, f"ids differ from truth: {dict(mismatches)}"
    stored, expected = lightspeed_daily(conn), truth_daily(truth)
    assert stored.keys() == expected.keys(), (
        f"outlet-days differ: missing {sorted(expected.keys() - stored.keys())[:5]}, "
        f"extra {sorted(stored.keys() - expected.keys())[:5]}"
    )
    differing = {k: (stored[k], expected[k]) for k in expected if stored[k] != expected[k]}
    assert not differing, f"daily totals differ: {list(differing.items())[:3]}"


def quarantined_child_ids(conn: psycopg.Connection[Any], entity: str, path: str) -> set[str]:
    """Ids of the children inside quarantined parents (they are in quarantine with them)."""
    rows = conn.execute(
        "SELECT raw FROM sync_quarantine WHERE entity_type = %s", (entity,)
    ).fetchall()
    return {
        item["id"]
        for (raw,) in rows
        if isinstance(raw, dict)
        for item in raw.get(path) or []
        if isinstance(item, dict) and "id" in item
    }
