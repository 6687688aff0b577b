"""The engine against the Lightspeed simulator and real PostgreSQL: imports equal the truth."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from bench.trials.truth import assert_lightspeed_matches_truth

from possync.cli.progress import ProgressPrinter
from possync.config.settings import Settings
from possync.db.connection import Database
from possync.engine.run import EntityProgress, SyncRequest, run_sync
from possync.simulator import FaultConfig, RunningSimulator
from possync.sources.lightspeed import LightspeedSource
from tests.conftest import make_settings
from tests.engine.killing import cli_env, kill_sync_midway
from tests.support.retry import FAST_RETRY
from tests.support.simulators import simulator_fixture

simulator = simulator_fixture(seed=7, square=False)


@pytest.fixture
def ls_settings(db: Database, tmp_path: Path, simulator: RunningSimulator) -> Settings:
    return make_settings(
        db,
        tmp_path,
        lightspeed_url=simulator.lightspeed_url,
        lightspeed_token=simulator.token,
        lightspeed_page_size=200,
    )


def _sync(settings: Settings, db: Database, **request: Any) -> Any:
    source = LightspeedSource(settings, retry=FAST_RETRY)
    try:
        return run_sync(settings, db, SyncRequest("lightspeed", **request), source=source)
    finally:
        source.close()


def _truth(simulator: RunningSimulator) -> dict[str, Any]:
    truth: dict[str, Any] = simulator.simulator.truth()["lightspeed"]
    return truth


def test_historical_import_equals_truth(
    ls_settings: Settings, db: Database, simulator: RunningSimulator
) -> None:
    report = _sync(ls_settings, db)
    assert report.ok, [r.error for r in report.failed]
    assert all(r.action == "historical_import" for r in report.results)
    truth = _truth(simulator)
    with db.connect() as conn:
        assert_lightspeed_matches_truth(conn, truth)
        states = dict(
            conn.execute(
                "SELECT entity_type, status FROM sync_state WHERE source = 'lightspeed'"
            ).fetchall()
        )
        assert states["sale_line_items"] == "success"
        assert states["sales"] == "success"
        log = conn.execute(
            """SELECT status, records_processed, metadata FROM sync_log
               WHERE entity_type = 'sales' AND source = 'lightspeed'"""
        ).fetchone()
    assert log is not None and log[0] == "completed"
    sales_truth = truth["entities"]["sales"]
    assert log[1] == len(sales_truth["alive"]) + len(sales_truth["deleted"])
    assert log[2]["pages"] >= 2 and log[2]["requests"] >= log[2]["pages"]


def test_incremental_after_time_travel_equals_truth(
    ls_settings: Settings, db: Database, simulator: RunningSimulator
) -> None:
    assert _sync(ls_settings, db).ok
    changes = simulator.simulator.advance(60 * 24 * 3)
    assert sum(changes.get("lightspeed", changes).values()) > 0
    report = _sync(ls_settings, db)
    assert report.ok
    by_entity = {r.entity: r for r in report.results}
    assert by_entity["sales"].action == "incremental_sync"
    assert 0 < by_entity["sales"].records < len(_truth(simulator)["entities"]["sales"]["alive"])
    with db.connect() as conn:
        assert_lightspeed_matches_truth(conn, _truth(simulator))


def test_second_run_with_nothing_new_writes_nothing(ls_settings: Settings, db: Database) -> None:
    assert _sync(ls_settings, db).ok
    with db.connect() as conn:
        before = _table_fingerprints(conn)
    report = _sync(ls_settings, db)
    assert report.ok
    versioned = [r for r in report.results if r.entity != "product_categories"]
    assert all(r.records == 0 for r in versioned), [(r.entity, r.records) for r in versioned]
    with db.connect() as conn:
        assert _table_fingerprints(conn) == before


def _table_fingerprints(conn: Any) -> dict[str, Any]:
    tables = [
        r[0]
        for r in conn.execute(
            "SELECT tablename FROM pg_tables WHERE tablename LIKE 'lightspeed_%' ORDER BY 1"
        )
    ]
    return {
        t: conn.execute(
            f"SELECT count(*), max(synced_at), sum(hashtext(raw::text)) FROM {t}"
        ).fetchone()
        for t in tables
    }


def test_faults_still_end_equal_to_truth(
    ls_settings: Settings, db: Database, simulator: RunningSimulator
) -> None:
    simulator.simulator.set_faults(
        FaultConfig(
            error_rate=0.08,
            reset_rate=0.05,
            truncate_rate=0.05,
            rate_limit_burst=3,
            short_page_rate=0.1,
            seed=3,
        )
    )
    report = _sync(ls_settings, db)
    assert report.ok, [r.error for r in report.failed]
    assert sum(r.retries for r in report.results) > 0
    injected = simulator.simulator.faults.injected
    assert injected.get("server_error", 0) + injected.get("reset", 0) > 0
    with db.connect() as conn:
        assert_lightspeed_matches_truth(conn, _truth(simulator))


def test_malformed_records_land_in_quarantine_only(
    ls_settings: Settings, db: Database, simulator: RunningSimulator
) -> None:
    bad_ids = simulator.simulator.corrupt("lightspeed", "sales", 3)
    assert len(bad_ids) == 3
    report = _sync(ls_settings, db)
    assert report.ok
    sales = next(r for r in report.results if r.entity == "sales")
    assert sales.quarantined == 3
    with db.connect() as conn:
        quarantined = {
            r[0]: r[1]
            for r in conn.execute(
                "SELECT record_id, reason FROM sync_quarantine WHERE entity_type = 'sales'"
            )
        }
        stored = conn.execute(
            "SELECT count(*) FROM lightspeed_sales WHERE id = ANY(%s)", (list(bad_ids),)
        ).fetchone()
        assert_lightspeed_matches_truth(conn, _truth(simulator))
    assert stored == (0,)
    assert set(bad_ids) <= set(quarantined) or len(quarantined) == 3
    assert all(reason for reason in quarantined.values())


def test_killed_import_resumes_without_loss_or_duplicates(
    ls_settings: Settings, db: Database, simulator: RunningSimulator, tmp_path: Path
) -> None:
    simulator.simulator.set_faults(FaultConfig(latency_ms=15))
    env = cli_env(
        db,
        tmp_path,
        lightspeed_url=simulator.lightspeed_url,
        lightspeed_token=simulator.token,
        lightspeed_page_size=25,
    )
    kill_sync_midway(db, tmp_path, env, "lightspeed", "sales", 100)
    with db.connect() as conn:
        partial = conn.execute("SELECT count(*) FROM lightspeed_sales").fetchone()
        orphan_lines = conn.execute(
            """SELECT count(*) FROM lightspeed_sale_line_items li
               WHERE NOT EXISTS (SELECT 1 FROM lightspeed_sales s WHERE s.id = li.sale_id)"""
        ).fetchone()
    assert partial is not None and partial[0] >= 100
    assert orphan_lines == (0,)
    simulator.simulator.set_faults(FaultConfig())
    report = _sync(ls_settings, db)
    assert report.ok
    sales = next(r for r in report.results if r.entity == "sales")
    assert sales.action == "incremental_sync"  # resumed from the committed cursor
    total_sales = len(_truth(simulator)["entities"]["sales"]["alive"]) + len(
        _truth(simulator)["entities"]["sales"]["deleted"]
    )
    assert sales.records <= total_sales - partial[0] + 25  # at most one page read again
    with db.connect() as conn:
        assert_lightspeed_matches_truth(conn, _truth(simulator))


def test_rejected_token_fails_the_run_with_a_clear_message(
    db: Database, tmp_path: Path, simulator: RunningSimulator
) -> None:
    settings = make_settings(
        db, tmp_path, lightspeed_url=simulator.lightspeed_url, lightspeed_token="wrong-token"
    )
    report = _sync(settings, db)
    assert not report.ok
    assert len(report.results) == 1  # critical: the run stops at the first entity
    error = report.results[0].error or ""
    assert "rejected the token" in error and "wrong-token" not in error
    with db.connect() as conn:
        state = conn.execute(
            "SELECT status, error_message FROM sync_state WHERE entity_type = 'outlets'"
        ).fetchone()
    assert state is not None and state[0] == "failed" and "token" in state[1]


def test_dry_run_writes_nothing(ls_settings: Settings, db: Database) -> None:
    report = _sync(ls_settings, db, dry_run=True)
    assert report.ok
    assert sum(r.records for r in report.results) > 0
    with db.connect() as conn:
        assert conn.execute("SELECT count(*) FROM lightspeed_sales").fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM sync_log").fetchone() == (0,)


def test_a_full_refresh_estimates_its_total_from_what_is_stored(
    ls_settings: Settings, db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _sync(ls_settings, db).ok
    with db.connect() as conn:
        stored = conn.execute("SELECT count(*) FROM lightspeed_sales").fetchone()
    assert stored is not None and stored[0] > 0
    seen: list[EntityProgress] = []
    source = LightspeedSource(ls_settings, retry=FAST_RETRY)
    try:
        request = SyncRequest("lightspeed", entities=("sales",), full=True)
        assert run_sync(ls_settings, db, request, source=source, on_progress=seen.append).ok
    finally:
        source.close()
    assert seen and all(p.estimated_total == stored[0] for p in seen)
    capsys.readouterr()
    ProgressPrinter(interactive=False, interval=0)(seen[0])  # the line `possync sync` prints
    line = capsys.readouterr().out.strip()
    assert line.startswith("lightspeed sales: ") and "ETA ?" not in line and line.endswith("s")


@pytest.mark.parametrize("writer_process", [False, True], ids=["thread", "process"])
def test_a_child_entity_logs_its_own_rows(
    ls_settings: Settings, db: Database, simulator: RunningSimulator, writer_process: bool
) -> None:
    """sync_log's line items and payments rows count line items and payments, not sales."""
    settings = ls_settings.model_copy(update={"writer_process": writer_process})
    report = _sync(settings, db, entities=("sales",))
    assert report.ok, [r.error for r in report.failed]
    with db.connect() as conn:
        logged = dict(
            conn.execute(
                """SELECT entity_type, records_processed FROM sync_log
                   WHERE source = 'lightspeed' AND status = 'completed'"""
            ).fetchall()
        )
        stored = conn.execute(
            """SELECT (SELECT count(*) FROM lightspeed_sales),
                      (SELECT count(*) FROM lightspeed_sale_line_items),
                      (SELECT count(*) FROM lightspeed_sale_payments)"""
        ).fetchone()
    assert stored is not None
    sales, line_items, payments = stored
    assert line_items > sales and payments > 0
    assert logged == {"sales": sales, "sale_line_items": line_items, "sale_payments": payments}


def test_sync_log_counts_every_request_the_server_answered(
    ls_settings: Settings, db: Database, simulator: RunningSimulator
) -> None:
    """sync_log's `requests` and `retries` come from the HTTP client's own counters: with
    server errors injected, the runs' requests add up to what the simulator answered."""
    simulator.simulator.set_faults(FaultConfig(error_rate=0.2, seed=3))
    before = simulator.simulator.stats().get("lightspeed", 0)
    report = _sync(ls_settings, db)
    assert report.ok, [r.error for r in report.failed]
    answered = simulator.simulator.stats()["lightspeed"] - before
    with db.connect() as conn:
        logged = conn.execute(
            """SELECT DISTINCT ON (run_id) (metadata->>'requests')::int,
                      (metadata->>'retries')::int
               FROM sync_log WHERE source = 'lightspeed' AND status = 'completed'"""
        ).fetchall()
    assert len(logged) == len(report.results)
    assert sum(requests for requests, _ in logged) == answered
    retries = sum(retries for _, retries in logged)
    assert retries > 0 and retries == sum(r.retries for r in report.results)
    assert sum(r.requests for r in report.results) == answered
