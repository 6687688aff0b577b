"""Whatever ends a run is recorded: sync_state failed with a one-line reason, the sync_log row
closed as failed, the failure alert sent, the reason printed. Runs left open by a process
killed with -9 are closed as `abandoned` by the next sync that can take their lock."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from bench.trials.stub_pos import StubPos, running_stub_pos
from click.testing import CliRunner

from possync.cli.main import main
from possync.db.connection import Database
from possync.db.locks import try_lock_entity
from possync.simulator import FaultConfig, SimulatorConfig, running_simulator
from tests.engine.killing import cli_env
from tests.engine.test_writer_process import _wait_for_child, _wait_for_committed_sales
from tests.support.environment import set_possync_variables


@pytest.fixture
def stub() -> Iterator[StubPos]:
    with running_stub_pos() as running:
        yield running


def _rows(db: Database, sql: str) -> list[tuple[Any, ...]]:
    with db.connect() as conn:
        return list(conn.execute(sql).fetchall())


def run_cli(
    db: Database, tmp_path: Path, stub: StubPos, monkeypatch: pytest.MonkeyPatch, *args: str
) -> Any:
    """`possync ARGS` in this process (so a test can break a function), against the stub,
    alerts posted to it."""
    env = cli_env(
        db,
        tmp_path,
        lightspeed_url=stub.url,
        lightspeed_token="t" * 20,
        notify_urls=f"json://127.0.0.1:{stub.url.rsplit(':', 1)[1]}/alerts",
    )
    set_possync_variables(monkeypatch, env)
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def _cli(db: Database, tmp_path: Path, stub: StubPos, monkeypatch: pytest.MonkeyPatch) -> Any:
    return run_cli(db, tmp_path, stub, monkeypatch, "sync", "--source=lightspeed", "--entity=taxes")


def test_an_unexpected_exception_is_recorded_alerted_and_printed(
    db: Database, tmp_path: Path, stub: StubPos, monkeypatch: pytest.MonkeyPatch
) -> None:
    stub.answer("/taxes", 0, orjson.dumps({"data": [{"id": "t1", "name": "VAT", "version": 1}]}))

    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("validator exploded\non two lines")

    monkeypatch.setattr("possync.engine.walk.validate_page", broken)
    result = _cli(db, tmp_path, stub, monkeypatch)
    assert result.exit_code == 1
    reason = "unexpected RuntimeError: validator exploded on two lines"
    assert reason in result.output
    assert _rows(
        db, "SELECT status, error_message FROM sync_state WHERE entity_type = 'taxes'"
    ) == [("failed", f"{reason} (a bug: --debug shows the traceback)")]
    assert _rows(
        db,
        "SELECT status, error_details IS NOT NULL, finished_at IS NOT NULL FROM sync_log "
        "WHERE entity_type = 'taxes'",
    ) == [("failed", True, True)]
    alerts = [body for path, body in stub.posts if path == "/alerts"]
    assert [alert["title"] for alert in alerts] == ["possync alert: lightspeed taxes sync failed"]
    assert "validator exploded on two lines" in alerts[0]["message"]


def test_a_killed_writer_process_is_recorded(db: Database, tmp_path: Path) -> None:
    """SIGKILL to the writer process, as the out-of-memory killer does: the run fails with
    that reason, its state and log say so, nothing is left `running`."""
    with running_simulator(SimulatorConfig(seed=7, scale="small", square=False)) as sim:
        sim.simulator.set_faults(FaultConfig(latency_ms=20))
        env = cli_env(
            db,
            tmp_path,
            lightspeed_url=sim.lightspeed_url,
            lightspeed_token=sim.token,
            lightspeed_page_size=20,
        )
        engine = subprocess.Popen(
            [sys.executable, "-m", "possync", "sync", "--source=lightspeed", "--entity=sales"],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            writer = _wait_for_child(engine.pid, "possync.engine.writer_process", seconds=60)
            _wait_for_writer_connection(db)
            # Pages after the writer process connected are written by it (the handover).
            _wait_for_committed_sales(db, _count_sales(db) + 5 * 20)
            subprocess.run(["kill", "-9", str(writer)], check=True)
            out, err = engine.communicate(timeout=60)
        finally:
            if engine.poll() is None:
                engine.kill()
    assert engine.returncode == 1, (out, err)
    reason = "the writer process was killed by SIGKILL (out of memory?)"
    assert reason in out, (out, err)
    [(status, message)] = _rows(
        db, "SELECT status, error_message FROM sync_state WHERE entity_type = 'sales'"
    )
    assert status == "failed" and message.startswith(reason)
    assert _rows(db, "SELECT DISTINCT status FROM sync_log WHERE entity_type LIKE 'sale%'") == [
        ("failed",)
    ]


def _count_sales(db: Database) -> int:
    return int(_rows(db, "SELECT count(*) FROM lightspeed_sales")[0][0])


def _wait_for_writer_connection(db: Database) -> None:
    """The engine's connection and the writer process's: two sessions besides ours."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        [(others,)] = _rows(
            db,
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND backend_type = 'client backend'",
        )
        if others >= 2:
            return
        time.sleep(0.02)
    raise AssertionError("the writer process never connected")


def test_runs_left_open_by_a_killed_process_are_closed_as_abandoned(
    db: Database, tmp_path: Path, stub: StubPos, monkeypatch: pytest.MonkeyPatch
) -> None:
    killed_run = uuid.uuid4()
    with db.connect() as conn:  # what `kill -9` mid-run leaves behind
        for entity in ("taxes", "users"):
            conn.execute(
                """INSERT INTO sync_log (run_id, source, entity_type, action, status)
                   VALUES (%s, 'lightspeed', %s, 'incremental_sync', 'started')""",
                (killed_run, entity),
            )
            conn.execute(
                """INSERT INTO sync_state (source, entity_type, status, last_run_id)
                   VALUES ('lightspeed', %s, 'running', %s)""",
                (entity, killed_run),
            )
        conn.commit()
    held = db.connect()  # `users` is being synced by a live process: its lock is taken
    assert try_lock_entity(held, "lightspeed", "users")  # the key names the shop's schema
    try:
        result = _cli(db, tmp_path, stub, monkeypatch)  # syncs taxes only
    finally:
        held.close()
    assert result.exit_code == 0, result.output
    assert _rows(
        db,
        f"""SELECT entity_type, status, finished_at IS NOT NULL, error_details FROM sync_log
            WHERE run_id = '{killed_run}' ORDER BY entity_type""",
    ) == [
        (
            "taxes",
            "abandoned",
            True,
            "the process running it ended without closing it (killed, e.g. out of memory)",
        ),
        ("users", "started", False, None),
    ]
    assert _rows(
        db,
        "SELECT entity_type, status FROM sync_state WHERE entity_type IN ('taxes', 'users') "
        "ORDER BY 1",
    ) == [("taxes", "success"), ("users", "running")]
