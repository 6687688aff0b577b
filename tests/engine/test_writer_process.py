"""The writer process: chosen when a bulk run starts (a historical import), it writes every
page of that run and stores exactly what a one-process run stores, serves the following
entities of the sync without a new process, lets an incremental run stay in one process,
fails one page cleanly, and never outlives the engine."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from bench.trials.truth import assert_lightspeed_matches_truth

from possync.config.settings import Settings
from possync.db.connection import Database
from possync.engine import writer as writer_module
from possync.engine.page_commit import WalkTarget
from possync.engine.run import SyncReport, SyncRequest, run_sync
from possync.engine.writer_process import ProcessWriter
from possync.simulator import FaultConfig, RunningSimulator
from possync.sources.base import ReadOptions, StreamState
from possync.sources.lightspeed import LightspeedSource
from tests.conftest import make_settings
from tests.engine.killing import cli_env
from tests.support.retry import FAST_RETRY
from tests.support.simulators import simulator_fixture

PAGE_SIZE = 50
# Slow pages (30 of them): a run long enough for a writer process to matter.
LATENCY_MS = 60
REFUSED_PAGE = 28
# A sale on a late page refuses to be stored: the writer process meets a database error.
FAIL_ON_SALE = """
CREATE FUNCTION refuse_sale() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.id = '{sale_id}' THEN
        RAISE EXCEPTION 'refused sale %', NEW.id;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER refuse_sale BEFORE INSERT OR UPDATE ON lightspeed_sales
    FOR EACH ROW EXECUTE FUNCTION refuse_sale();
"""


simulator = simulator_fixture(seed=7, square=False)


def _settings(db: Database, tmp_path: Path, sim: RunningSimulator, **extra: Any) -> Settings:
    sim.simulator.set_faults(FaultConfig(latency_ms=LATENCY_MS))
    return make_settings(
        db,
        tmp_path,
        lightspeed_url=sim.lightspeed_url,
        lightspeed_token=sim.token,
        lightspeed_page_size=PAGE_SIZE,
        **extra,
    )


def _sync(settings: Settings, db: Database, **request: Any) -> SyncReport:
    source = LightspeedSource(settings, retry=FAST_RETRY)
    try:
        return run_sync(settings, db, SyncRequest("lightspeed", **request), source=source)
    finally:
        source.close()


def _logged_counters(db: Database) -> dict[str, tuple[Any, ...]]:
    """Per entity: records, written rows, and the counters the run logged (no timings)."""
    keep = ("pages", "quarantined", "unknown_references", "deleted_by_snapshot")
    with db.connect() as conn:
        rows = conn.execute(
            """SELECT entity_type, records_processed, metadata FROM sync_log
               WHERE source = 'lightspeed' AND status = 'completed'"""
        ).fetchall()
    return {row[0]: (row[1], *(row[2].get(key) for key in keep)) for row in rows}


def test_a_historical_import_writes_in_the_writer_process_and_stores_what_one_process_stores(
    db: Database,
    tmp_path: Path,
    simulator: RunningSimulator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    runs: list[str] = []
    processes = _count_processes(monkeypatch)
    monkeypatch.setattr(ProcessWriter, "begin_run", _counting_begin(runs))
    report = _sync(_settings(db, tmp_path, simulator), db)
    assert report.ok, [r.error for r in report.failed]
    # Every entity with pages, bar the categories (a snapshot read whole every run), was
    # written by the writer process; one process served them all.
    with_pages = {r.entity for r in report.results if r.pages}
    assert set(runs) == with_pages - {"product_categories"} and "sales" in runs
    assert len(runs) == len(set(runs)) and processes == [1]
    with db.connect() as conn:
        assert_lightspeed_matches_truth(conn, simulator.simulator.truth()["lightspeed"])
    with_process = _logged_counters(db)

    runs.clear()
    with db.connect() as conn:  # the same import again, in one process
        for table in conn.execute(
            "SELECT tablename FROM pg_tables WHERE tablename LIKE 'lightspeed_%'"
        ).fetchall():
            conn.execute(f"TRUNCATE {table[0]} CASCADE")
        conn.execute("DELETE FROM sync_log")
        conn.execute("UPDATE sync_state SET last_version = NULL, watermark = NULL")
        conn.commit()
    single = _settings(db, tmp_path, simulator, writer_process=False)
    assert _sync(single, db).ok
    assert runs == [] and processes == [1]
    assert _logged_counters(db) == with_process
    assert with_process["sales"][1] > 2  # pages

    # Incremental now (every cursor is stored): no writer process, the same truth.
    simulator.simulator.advance(360)
    assert _sync(_settings(db, tmp_path, simulator), db).ok
    assert runs == [] and processes == [1]
    with db.connect() as conn:
        assert_lightspeed_matches_truth(conn, simulator.simulator.truth()["lightspeed"])


def _counting_begin(runs: list[str]) -> Any:
    original_begin = ProcessWriter.begin_run

    def counting_begin(self: ProcessWriter, target: WalkTarget, *args: Any) -> None:
        runs.append(target.entity)
        original_begin(self, target, *args)

    return counting_begin


def _count_processes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """A list holding how many writer processes were started (a list: it changes later)."""
    started = [0]
    original_init = ProcessWriter.__init__

    def counting_init(self: ProcessWriter, *args: Any) -> None:
        started[0] += 1
        original_init(self, *args)

    monkeypatch.setattr(ProcessWriter, "__init__", counting_init)
    return started


def test_a_page_failing_in_the_writer_process_fails_the_run_cleanly(
    db: Database, tmp_path: Path, simulator: RunningSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs: list[str] = []
    monkeypatch.setattr(ProcessWriter, "begin_run", _counting_begin(runs))
    settings = _settings(db, tmp_path, simulator)
    assert _sync(settings, db, entities=("outlets", "registers", "users")).ok
    truth = simulator.simulator.truth()["lightspeed"]
    refused = _sale_on_page(settings, REFUSED_PAGE)
    with db.connect() as conn:
        conn.execute(FAIL_ON_SALE.format(sale_id=refused))
        conn.commit()
    runs.clear()
    report = _sync(settings, db, entities=("sales",))
    assert runs == ["sales"]  # the refused page was the writer process's
    failed = report.failed
    assert len(failed) == 1 and failed[0].entity == "sales"
    assert failed[0].error is not None and f"refused sale {refused}" in failed[0].error
    assert "\n" not in failed[0].error
    with db.connect() as conn:
        stored = conn.execute("SELECT count(*) FROM lightspeed_sales").fetchone()
        version = conn.execute(
            """SELECT last_version FROM sync_state
               WHERE source = 'lightspeed' AND entity_type = 'sales'"""
        ).fetchone()
        newest = conn.execute("SELECT max(version) FROM lightspeed_sales").fetchone()
        conn.execute("DROP TRIGGER refuse_sale ON lightspeed_sales")
        conn.commit()
    # Whole pages, committed with their cursor; nothing of the refused page.
    assert stored == ((REFUSED_PAGE - 1) * PAGE_SIZE,)
    assert version is not None and newest is not None and version[0] == newest[0]
    assert _sync(settings, db).ok
    with db.connect() as conn:
        assert_lightspeed_matches_truth(conn, truth)


def _sale_on_page(settings: Settings, page: int) -> str:
    """The id of a sale on the `page`-th page (from 1) of a sales walk."""
    source = LightspeedSource(settings, retry=FAST_RETRY)
    try:
        pages = source.read_pages("sales", StreamState(None, None, None), ReadOptions())
        for number, read in enumerate(pages, start=1):
            if number == page:
                return str(read.records[PAGE_SIZE // 2]["id"])
    finally:
        source.close()
    raise AssertionError(f"the walk has fewer than {page} pages")


def test_a_killed_engine_takes_its_writer_process_along(
    db: Database, tmp_path: Path, simulator: RunningSimulator
) -> None:
    simulator.simulator.set_faults(FaultConfig(latency_ms=20))
    env = cli_env(
        db,
        tmp_path,
        lightspeed_url=simulator.lightspeed_url,
        lightspeed_token=simulator.token,
        lightspeed_page_size=20,
    )
    engine = subprocess.Popen(
        [sys.executable, "-m", "possync", "sync", "--source", "lightspeed", "--entity", "sales"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        writer = _wait_for_child(engine.pid, "possync.engine.writer_process", seconds=60)
        _wait_for_committed_sales(db, 10 * 20)
        engine.send_signal(signal.SIGKILL)
        engine.wait(10)
    finally:
        if engine.poll() is None:
            engine.kill()
    deadline = time.monotonic() + 10
    while _alive(writer) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(writer), "the writer process outlived the engine"


def _wait_for_child(parent: int, marker: str, *, seconds: float) -> int:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
                command = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if ppid == parent and marker.encode() in command:
                return int(entry.name)
        time.sleep(0.05)
    raise AssertionError("the engine never started a writer process")


def _wait_for_committed_sales(db: Database, count: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with db.connect() as conn:
            row = conn.execute("SELECT count(*) FROM lightspeed_sales").fetchone()
        if row is not None and row[0] >= count:
            return
        time.sleep(0.05)
    raise AssertionError(f"fewer than {count} sales were committed")


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_a_writer_process_that_cannot_connect_leaves_the_import_to_the_engine(
    db: Database,
    tmp_path: Path,
    simulator: RunningSimulator,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The server refuses the writer's connection (a role's connection limit, a full server):
    # its real process fails to connect, and the import goes on in one process.
    refused = Database("postgresql://possync@127.0.0.1:1/nowhere", db.schema)
    started: list[Database] = []

    def refused_writer(_db: Database) -> ProcessWriter:
        started.append(refused)
        return ProcessWriter(refused)

    monkeypatch.setattr(writer_module, "ProcessWriter", refused_writer)
    with caplog.at_level("WARNING", logger="possync.engine.writer"):
        report = _sync(_settings(db, tmp_path, simulator), db)
    assert report.ok, [r.error for r in report.failed]
    assert len(started) == 1, "one attempt; the sync's later runs go straight to a thread"
    warnings = [r.getMessage() for r in caplog.records if r.name == "possync.engine.writer"]
    assert len(warnings) == 1 and "could not connect to PostgreSQL" in warnings[0]
    with db.connect() as conn:
        assert_lightspeed_matches_truth(conn, simulator.simulator.truth()["lightspeed"])
