"""The counters the reliability table reports do see what they claim to count."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest
from bench.trials.harness import LIGHTSPEED, observe
from bench.trials.measure import measure
from bench.trials.soak import sync_in_process

from possync.db.connection import Database
from possync.simulator import RunningSimulator

pytestmark = pytest.mark.reliability

Mutation = Callable[[psycopg.Connection[Any]], None]


def _delete_two_sales(conn: psycopg.Connection[Any]) -> None:
    conn.execute(
        """WITH gone AS (DELETE FROM lightspeed_sales WHERE id IN
               (SELECT id FROM lightspeed_sales ORDER BY id LIMIT 2) RETURNING id)
           DELETE FROM lightspeed_sale_line_items WHERE sale_id IN (SELECT id FROM gone)"""
    )


def _keep_a_replaced_line_item(conn: psycopg.Connection[Any]) -> None:
    # What a loader that forgot to replace children would leave: a line of the sale's
    # previous version, which the sale no longer has.
    conn.execute(
        """INSERT INTO lightspeed_sale_line_items
           SELECT (jsonb_populate_record(li, jsonb_build_object(
                      'id', li.id || '-old', 'sale_version', li.sale_version - 1))).*
           FROM lightspeed_sale_line_items li ORDER BY id LIMIT 1"""
    )


def _count_a_sale_twice(conn: psycopg.Connection[Any]) -> None:
    conn.execute(
        """INSERT INTO lightspeed_sales
           SELECT (jsonb_populate_record(s, jsonb_build_object('id', s.id || '-copy'))).*
           FROM lightspeed_sales s WHERE status = 'CLOSED' AND deleted_at IS NULL
           ORDER BY id LIMIT 1"""
    )


def _miss_a_deletion(conn: psycopg.Connection[Any]) -> None:
    conn.execute(
        "UPDATE lightspeed_customers SET deleted_at = NULL WHERE id = "
        "(SELECT min(id) FROM lightspeed_customers WHERE deleted_at IS NOT NULL)"
    )


# (damage, at least this many lost, at least this many duplicated)
DAMAGE: list[tuple[Mutation, int, int]] = [
    (_delete_two_sales, 2, 0),
    (_keep_a_replaced_line_item, 0, 1),
    (_count_a_sale_twice, 0, 1),
    (_miss_a_deletion, 0, 0),
]


def test_each_kind_of_damage_is_counted(
    db: Database, ls_sim: RunningSimulator, tmp_path: Path
) -> None:
    assert sync_in_process(LIGHTSPEED, db, ls_sim, tmp_path, page_size=1000).ok
    truth = LIGHTSPEED.truth(ls_sim)
    with observe(db) as conn:
        before = measure(conn, "lightspeed", truth)
        assert before.clean and before.checked > 5000, before.details
        for mutation, lost, duplicated in DAMAGE:
            with conn.transaction(force_rollback=True):
                mutation(conn)
                after = measure(conn, "lightspeed", truth)
            assert not after.clean, f"{mutation.__name__} went unnoticed"
            assert after.lost >= lost, (mutation.__name__, after.details)
            assert after.duplicated >= duplicated, (mutation.__name__, after.details)
