"""The engine against the Square simulator and real PostgreSQL: imports equal the truth."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from bench.trials.square_truth import assert_square_matches_truth

from possync.config.settings import Settings
from possync.db.connection import Database
from possync.engine.run import SyncReport, SyncRequest, run_sync
from possync.simulator import FaultConfig, RunningSimulator
from possync.sources.base import Page, ReadOptions, StreamState
from possync.sources.square import SquareSource
from tests.conftest import make_settings
from tests.engine.killing import cli_env, kill_sync_midway
from tests.support.retry import FAST_RETRY
from tests.support.simulators import simulator_fixture

simulator = simulator_fixture(seed=11, lightspeed=False)


@pytest.fixture
def sq_settings(db: Database, tmp_path: Path, simulator: RunningSimulator) -> Settings:
    return make_settings(
        db, tmp_path, square_url=simulator.square_url, square_token=simulator.token
    )


def _sync(settings: Settings, db: Database, **request: Any) -> SyncReport:
    source = SquareSource(settings, retry=FAST_RETRY)
    try:
        return run_sync(settings, db, SyncRequest("square", **request), source=source)
    finally:
        source.close()


def _truth(simulator: RunningSimulator) -> dict[str, Any]:
    truth: dict[str, Any] = simulator.simulator.truth()["square"]
    return truth


def _state(db: Database, entity: str) -> tuple[Any, ...]:
    with db.connect() as conn:
        row = conn.execute(
            """SELECT status, watermark, run_cursor FROM sync_state
               WHERE source = 'square' AND entity_type = %s""",
            (entity,),
        ).fetchone()
    assert row is not None
    return tuple(row)


def test_historical_import_equals_truth(
    sq_settings: Settings, db: Database, simulator: RunningSimulator
) -> None:
    report = _sync(sq_settings, db)
    assert report.ok, [(r.entity, r.error) for r in report.failed]
    assert all(r.action == "historical_import" for r in report.results)
    truth = _truth(simulator)
    assert len(truth["entities"]["locations"]["alive"]) > 10  # two chunks of orders searches
    with db.connect() as conn:
        assert_square_matches_truth(conn, truth)
        returns = conn.execute(
            """SELECT count(*), count(s.id) FROM square_orders r
               LEFT JOIN square_orders s ON s.id = r.source_order_id WHERE r.is_return"""
        ).fetchone()
        states = dict(
            conn.execute(
                "SELECT entity_type, status FROM sync_state WHERE source = 'square'"
            ).fetchall()
        )
    assert returns is not None and returns[0] > 0 and returns[0] == returns[1]
    assert set(states.values()) == {"success"}
    orders = next(r for r in report.results if r.entity == "orders")
    assert orders.records == len(truth["entities"]["orders"]["alive"])
    _, watermark, run_cursor = _state(db, "orders")
    assert watermark is not None and run_cursor is None


def test_incremental_after_time_travel_equals_truth(
    sq_settings: Settings, db: Database, simulator: RunningSimulator
) -> None:
    assert _sync(sq_settings, db).ok
    _, first_watermark, _ = _state(db, "orders")
    changes = simulator.simulator.advance(60 * 24 * 3)["square"]
    for kind in ("late_offline_orders", "order_edits", "refunds", "catalog_deletes"):
        assert changes[kind] > 0, changes
    report = _sync(sq_settings, db)
    assert report.ok, [(r.entity, r.error) for r in report.failed]
    by_entity = {r.entity: r for r in report.results}
    assert by_entity["orders"].action == "incremental_sync"
    truth = _truth(simulator)
    assert 0 < by_entity["orders"].records < len(truth["entities"]["orders"]["alive"])
    with db.connect() as conn:
        assert_square_matches_truth(conn, truth)
        deleted_items = conn.execute(
            """SELECT count(*) FROM square_catalog_items
               WHERE deleted_at IS NOT NULL AND deleted_at = updated_at AND is_deleted"""
        ).fetchone()
    assert deleted_items is not None and deleted_items[0] > 0
    _, watermark, run_cursor = _state(db, "orders")
    assert watermark > first_watermark and run_cursor is None


def test_expired_cursors_and_faults_still_end_equal_to_truth(
    db: Database, tmp_path: Path, simulator: RunningSimulator
) -> None:
    settings = make_settings(
        db,
        tmp_path,
        square_url=simulator.square_url,
        square_token=simulator.token,
        square_page_limit=100,
    )
    simulator.simulator.set_faults(
        FaultConfig(
            error_rate=0.05,
            reset_rate=0.03,
            truncate_rate=0.03,
            rate_limit_burst=2,
            expired_cursor_rate=0.15,
            short_page_rate=0.1,
            seed=5,
        )
    )
    report = _sync(settings, db)
    assert report.ok, [(r.entity, r.error) for r in report.failed]
    injected = simulator.simulator.faults.injected
    assert injected.get("expired_cursor", 0) > 0 and injected.get("rate_limit", 0) > 0
    assert sum(r.retries for r in report.results) > 0
    with db.connect() as conn:
        assert_square_matches_truth(conn, _truth(simulator))
    simulator.simulator.advance(60 * 24)
    assert _sync(settings, db).ok
    with db.connect() as conn:
        assert_square_matches_truth(conn, _truth(simulator))


def test_killed_import_resumes_without_loss_or_duplicates(
    db: Database, tmp_path: Path, simulator: RunningSimulator
) -> None:
    page_limit = 50
    simulator.simulator.set_faults(FaultConfig(latency_ms=10))
    env = cli_env(
        db,
        tmp_path,
        square_url=simulator.square_url,
        square_token=simulator.token,
        square_page_limit=page_limit,
    )
    kill_sync_midway(db, tmp_path, env, "square", "orders", 600)
    with db.connect() as conn:
        partial = conn.execute("SELECT count(*) FROM square_orders").fetchone()
        orphan_lines = conn.execute(
            """SELECT count(*) FROM square_order_line_items li
               WHERE NOT EXISTS (SELECT 1 FROM square_orders o WHERE o.id = li.order_id)"""
        ).fetchone()
    assert partial is not None and partial[0] >= 600
    assert orphan_lines == (0,)
    _, watermark, run_cursor = _state(db, "orders")
    assert watermark is None and run_cursor is not None and run_cursor["cursor"]
    with db.connect() as conn:  # by the time we resume, Square has expired the cursor
        conn.execute(
            """UPDATE sync_state SET run_cursor = jsonb_set(run_cursor, '{cursor}', '"gone"')
               WHERE source = 'square' AND entity_type = 'orders'"""
        )
        conn.commit()
    simulator.simulator.set_faults(FaultConfig())
    # Square trades on while we are down: the first run after the crash must bring that too.
    assert simulator.simulator.advance(120)["square"]["new_orders"] > 0
    settings = make_settings(
        db,
        tmp_path,
        square_url=simulator.square_url,
        square_token=simulator.token,
        square_page_limit=page_limit,
    )
    report = _sync(settings, db)
    assert report.ok, [(r.entity, r.error) for r in report.failed]
    orders = next(r for r in report.results if r.entity == "orders")
    assert orders.action == "incremental_sync"
    truth = _truth(simulator)
    with db.connect() as conn:
        assert_square_matches_truth(conn, truth)
        # The new window after the resumed one starts a lookback before the old window's end.
        new_window = conn.execute(
            """SELECT count(*) FROM square_orders
               WHERE updated_at >= %s::timestamptz - interval '7 days'""",
            (run_cursor["end"],),
        ).fetchone()
    assert new_window is not None
    # Resumed from the committed position: the refused cursor restarted the query from the
    # last order seen, not from the beginning (at most one page read again).
    total = len(truth["entities"]["orders"]["alive"])
    assert orders.records <= total - partial[0] + page_limit + new_window[0]
    _, watermark, run_cursor = _state(db, "orders")
    assert watermark is not None and run_cursor is None


def test_backfill_recovers_a_date_range_without_touching_the_cursor(
    sq_settings: Settings, db: Database, simulator: RunningSimulator
) -> None:
    assert _sync(sq_settings, db).ok
    truth = _truth(simulator)
    since = date.fromisoformat(truth["daily"][0]["date"]) + timedelta(days=10)
    until = since + timedelta(days=3)
    interrupted = {"kind": "window", "begin": None, "end": None, "partitions": [], "index": 0}
    with db.connect() as conn:
        lost = conn.execute(
            """DELETE FROM square_orders WHERE created_at >= %s AND created_at < %s
               RETURNING id""",
            (since, until + timedelta(days=1)),
        ).fetchall()
        conn.execute(
            """DELETE FROM square_order_line_items li WHERE NOT EXISTS
               (SELECT 1 FROM square_orders o WHERE o.id = li.order_id)"""
        )
        conn.execute(
            """UPDATE sync_state SET run_cursor = %s::jsonb
               WHERE source = 'square' AND entity_type = 'orders'""",
            (json.dumps(interrupted),),
        )
        conn.commit()
    assert len(lost) > 20
    _, watermark_before, _ = _state(db, "orders")
    report = _sync(sq_settings, db, entities=("orders",), since=since, until=until)
    assert report.ok, [(r.entity, r.error) for r in report.failed]
    assert [r.action for r in report.results] == ["backfill"]
    assert len(lost) <= report.results[0].records < len(truth["entities"]["orders"]["alive"])
    _, watermark, run_cursor = _state(db, "orders")
    assert watermark == watermark_before and run_cursor == interrupted
    with db.connect() as conn:
        assert_square_matches_truth(conn, truth)


def test_full_runs_mark_what_square_no_longer_has(
    sq_settings: Settings, db: Database, simulator: RunningSimulator
) -> None:
    assert _sync(sq_settings, db).ok
    with db.connect() as conn:
        conn.execute(
            """INSERT INTO square_catalog_items (id, name, version, updated_at, raw)
               VALUES ('GHOST', 'Never at Square', 1, now(), '{}'::jsonb)"""
        )
        revived = conn.execute(
            """UPDATE square_catalog_item_variations SET deleted_at = NULL
               WHERE id = (SELECT min(id) FROM square_catalog_item_variations
                           WHERE deleted_at IS NOT NULL) RETURNING id"""
        ).fetchone()
        conn.commit()
        conn.execute(
            """INSERT INTO square_customers (id, version, updated_at, raw)
               VALUES ('GHOST', 1, now(), '{}'::jsonb)"""
        )
        conn.commit()
    assert revived is not None
    deep = ("categories", "catalog_items", "catalog_item_variations", "customers")
    report = _sync(sq_settings, db, entities=deep, full=True)
    assert report.ok, [(r.entity, r.error) for r in report.failed]
    assert {r.action for r in report.results} == {"full_refresh"}
    with db.connect() as conn:
        ghosts = conn.execute(
            """SELECT deleted_at IS NOT NULL FROM square_catalog_items WHERE id = 'GHOST'
               UNION ALL
               SELECT deleted_at IS NOT NULL FROM square_customers WHERE id = 'GHOST'"""
        ).fetchall()
        assert_square_matches_truth(conn, _truth(simulator), ignore={"GHOST"})
    assert ghosts == [(True,), (True,)]
    for entity in ("catalog_items", "catalog_item_variations"):
        _, watermark, run_cursor = _state(db, entity)
        assert watermark is not None and run_cursor is None
    simulator.simulator.advance(60 * 24)
    assert _sync(sq_settings, db).ok
    with db.connect() as conn:
        assert_square_matches_truth(conn, _truth(simulator), ignore={"GHOST"})


def test_rejected_token_fails_the_run_with_a_clear_message(
    db: Database, tmp_path: Path, simulator: RunningSimulator
) -> None:
    settings = make_settings(
        db, tmp_path, square_url=simulator.square_url, square_token="wrong-token"
    )
    report = _sync(settings, db)
    assert not report.ok
    assert len(report.results) == 1  # critical: the run stops at the first entity
    error = report.results[0].error or ""
    assert "rejected the token" in error and "wrong-token" not in error


def test_malformed_records_land_in_quarantine_only(
    sq_settings: Settings, db: Database, simulator: RunningSimulator
) -> None:
    bad = {
        entity: simulator.simulator.corrupt("square", entity, count)
        for entity, count in (("orders", 3), ("payments", 2), ("customers", 2))
    }
    report = _sync(sq_settings, db)
    assert report.ok, [(r.entity, r.error) for r in report.failed]
    by_entity = {r.entity: r for r in report.results}
    assert {entity: by_entity[entity].quarantined for entity in bad} == {
        entity: len(ids) for entity, ids in bad.items()
    }
    with db.connect() as conn:
        reasons = conn.execute(
            """SELECT entity_type, count(*), bool_and(reason <> '') FROM sync_quarantine
               WHERE source = 'square' GROUP BY entity_type"""
        ).fetchall()
        assert_square_matches_truth(conn, _truth(simulator))
    assert {r[0]: r[1] for r in reasons} == {entity: len(ids) for entity, ids in bad.items()}
    assert all(r[2] for r in reasons)


class _TradesMidRun(SquareSource):
    """A source that lets the store trade for `minutes` while one entity's run is under way:
    after its first location (payments), or after its first page (one-partition streams)."""

    def __init__(self, settings: Settings, simulator: RunningSimulator, minutes: int) -> None:
        super().__init__(settings, retry=FAST_RETRY)
        self._simulator = simulator
        self._minutes = minutes
        self.traded: set[str] = set()

    def read_pages(self, entity: str, state: StreamState, options: ReadOptions) -> Iterator[Page]:
        for page in super().read_pages(entity, state, options):
            yield page
            position = page.cursor.run_cursor or {}
            partitions = len(position.get("partitions") or [])
            moved_on = position.get("index", 0) >= 1 or partitions == 1
            if position and moved_on and entity not in self.traded:
                self.traded.add(entity)
                self._simulator.simulator.advance(self._minutes)


def _stored_versions(db: Database, table: str) -> dict[str, str]:
    with db.connect() as conn:
        rows = conn.execute(f"SELECT id, raw->>'updated_at' FROM {table}").fetchall()
    return {row[0]: row[1] for row in rows}


def _served_versions(records: dict[str, Any]) -> dict[str, str]:
    return {key: json.loads(record.json)["updated_at"] for key, record in records.items()}


def test_changes_made_while_a_long_run_reads_arrive_with_the_next_run(
    sq_settings: Settings, db: Database, simulator: RunningSimulator
) -> None:
    """A run that takes longer than the lookback (here: the store trades three hours while
    payments are read location by location, and customers page by page) must not let the
    next run skip what changed at the locations or positions it had already passed."""
    settings = sq_settings.model_copy(update={"square_page_limit": 10})
    assert _sync(settings, db).ok
    simulator.simulator.advance(3 * 24 * 60)
    source = _TradesMidRun(settings, simulator, minutes=180)
    try:
        request = SyncRequest("square", entities=("payments", "customers"))
        assert run_sync(settings, db, request, source=source).ok
    finally:
        source.close()
    assert source.traded == {"payments", "customers"}
    served = simulator.simulator.apis["square"].data
    missing_now = set(_served_versions(served.payments).items()) - set(
        _stored_versions(db, "square_payments").items()
    )
    assert missing_now, "the store did not trade at locations the run had already read"
    report = _sync(settings, db, entities=("payments", "customers"))
    assert report.ok
    assert _stored_versions(db, "square_payments") == _served_versions(served.payments)
    assert _stored_versions(db, "square_customers") == _served_versions(served.customers)
