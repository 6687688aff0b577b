"""Workers never die quietly: PostgreSQL restarted or stopped under a running worker (in a
thread, as `serve` runs it, and as `possync worker`), and started after the worker."""

from __future__ import annotations

import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from bench.trials.pgserver import RestartableServer
from bench.trials.serving import POSSYNC, clean_env, serving

from possync.config.settings import Settings
from possync.db.connection import Database
from possync.jobs.queue import JobQueue
from possync.jobs.worker import BackgroundWorker
from possync.simulator import RunningSimulator
from tests.conftest import make_settings
from tests.jobs.conftest import wait_for_job
from tests.web.conftest import PASSWORD

RESTARTS = 3
# Longer than the 30 s procrastinate's pool waits for a connection: its worker's heartbeat
# update then fails, which ends procrastinate's worker (and, before, `possync worker`).
OUTAGE_SECONDS = 35


@pytest.fixture(scope="module")
def server() -> Iterator[RestartableServer]:
    """A PostgreSQL of its own: these tests restart and stop it."""
    restartable = RestartableServer()
    yield restartable
    restartable.stop()


def _settings(db: Database, tmp_path: Path, sim: RunningSimulator) -> Settings:
    return make_settings(
        db,
        tmp_path,
        lightspeed_url=sim.lightspeed_url,
        lightspeed_token=sim.token,
        job_retry_base_seconds=1,
        schedule_incremental="",
        schedule_deep="",
    )


def _sync_outlets(settings: Settings, db: Database) -> int:
    """Queue a sync of Lightspeed outlets; its job id."""
    queue = JobQueue(settings, db)
    try:
        job = queue.enqueue_sync("lightspeed", "outlets")
    finally:
        queue.close()
    assert job.job_id is not None
    return job.job_id


def _true_outlets(sim: RunningSimulator) -> int:
    return len(sim.simulator.truth()["lightspeed"]["entities"]["outlets"])


def _stored_outlets(db: Database) -> int:
    with db.connect() as conn:
        row = conn.execute("SELECT count(*) FROM lightspeed_outlets").fetchone()
    assert row is not None
    return int(row[0])


def test_background_worker_runs_a_job_queued_after_each_postgres_restart(
    server: RestartableServer, simulator: RunningSimulator, tmp_path: Path
) -> None:
    db = server.new_database()
    settings = _settings(db, tmp_path, simulator)
    worker = BackgroundWorker(settings, db, schedules=True)
    worker.start()
    try:
        for restart in range(RESTARTS):
            server.restart("fast" if restart % 2 == 0 else "immediate")
            job_id = _sync_outlets(settings, db)
            assert wait_for_job(db, job_id, timeout=60)["status"] == "succeeded", restart
        assert worker.is_alive
        with db.connect() as conn:
            beats = conn.execute(
                """SELECT role, now() - last_beat < interval '30 seconds'
                   FROM possync_heartbeats ORDER BY role"""
            ).fetchall()
        assert beats == [("scheduler", True), ("worker", True)]
    finally:
        worker.stop()
    assert not worker.is_alive
    assert _stored_outlets(db) == _true_outlets(simulator)
    with db.connect() as conn:  # stopped on purpose: no longer counted as alive
        assert conn.execute("SELECT count(*) FROM possync_heartbeats").fetchone() == (0,)


class WorkerProcess:
    """`possync worker` as a child process, its output collected line by line."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.process = subprocess.Popen(
            [str(POSSYNC), "worker"],
            env=env,
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_for_line(self, start: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not any(line.startswith(start) for line in self.lines):
            assert self.process.poll() is None, "\n".join(self.lines)
            assert time.monotonic() < deadline, f"no line {start!r}:\n" + "\n".join(self.lines)
            time.sleep(0.1)

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=60)
        finally:
            if self.process.poll() is None:
                self.process.kill()
            self._reader.join(5)


def _worker_env(
    db: Database, sim: RunningSimulator, tmp_path: Path, **extra: str
) -> dict[str, str]:
    return clean_env(
        database_url=db.url,
        data_dir=str(tmp_path / "data"),
        lightspeed_url=sim.lightspeed_url,
        lightspeed_token=sim.token,
        job_retry_base_seconds="1",
        **extra,
    )


def test_possync_worker_survives_restarts_and_an_outage(
    server: RestartableServer, simulator: RunningSimulator, tmp_path: Path
) -> None:
    db = server.new_database()
    settings = _settings(db, tmp_path, simulator)
    worker = WorkerProcess(_worker_env(db, simulator, tmp_path), tmp_path)
    try:
        worker.wait_for_line("worker: ")
        server.restart("immediate")  # BackgroundWorker's test restarts more: same supervisor
        job_id = _sync_outlets(settings, db)
        assert wait_for_job(db, job_id, timeout=60)["status"] == "succeeded"
        server.shut_down()  # an outage, not a quick restart: longer than a heartbeat period
        try:
            time.sleep(OUTAGE_SECONDS)
            assert worker.process.poll() is None, "\n".join(worker.lines)
        finally:
            server.start_again()
        job_id = _sync_outlets(settings, db)
        assert wait_for_job(db, job_id, timeout=60)["status"] == "succeeded"
    finally:
        code = worker.stop()
    assert code == 0, "\n".join(worker.lines)
    assert not any("Traceback" in line for line in worker.lines), "\n".join(worker.lines)
    assert _stored_outlets(db) == _true_outlets(simulator)


def test_worker_waits_for_a_database_that_starts_late(
    server: RestartableServer, simulator: RunningSimulator, tmp_path: Path
) -> None:
    db = server.new_database()
    settings = _settings(db, tmp_path, simulator)
    server.shut_down()
    try:
        worker = WorkerProcess(_worker_env(db, simulator, tmp_path), tmp_path)
        worker.wait_for_line("waiting for PostgreSQL (attempt 1, next in 1 s): cannot connect")
        time.sleep(3)
    finally:
        server.start_again()
    try:
        worker.wait_for_line("worker: ", timeout=60)
        job_id = _sync_outlets(settings, db)
        assert wait_for_job(db, job_id, timeout=60)["status"] == "succeeded"
    finally:
        assert worker.stop() == 0, "\n".join(worker.lines)
    waits = [line for line in worker.lines if line.startswith("waiting for PostgreSQL")]
    assert len(waits) >= 2  # one line per attempt, while it was down
    assert all("(check POSSYNC_DATABASE_URL" in line for line in waits)


def test_serve_waits_for_a_database_that_starts_late(
    server: RestartableServer, simulator: RunningSimulator, tmp_path: Path
) -> None:
    db = server.new_database()
    settings = _settings(db, tmp_path, simulator)
    env = _worker_env(db, simulator, tmp_path, dashboard_password=PASSWORD)
    server.shut_down()
    later = threading.Timer(3.0, server.start_again)
    later.start()
    try:
        with serving(env, tmp_path) as served:
            health = httpx.get(served.url + "healthz", timeout=10)
            assert health.status_code == 200, health.text
            assert health.json()["worker"]["alive"] == 1
            job_id = _sync_outlets(settings, db)
            assert wait_for_job(db, job_id, timeout=60)["status"] == "succeeded"
            assert served.stop(signal.SIGTERM) == 0
    finally:
        later.join()
    waits = [line for line in served.output if line.startswith("waiting for PostgreSQL")]
    assert waits, "".join(served.output)  # it waited (how often depends on its start-up time)
    assert "Traceback" not in "".join(served.output)


def test_worker_gives_up_waiting_with_one_line(
    server: RestartableServer, simulator: RunningSimulator, tmp_path: Path
) -> None:
    db = server.new_database()
    server.shut_down()
    try:
        env = _worker_env(db, simulator, tmp_path, database_wait_seconds="2")
        result = subprocess.run(
            [str(POSSYNC), "worker"], env=env, cwd=tmp_path, capture_output=True, text=True
        )
    finally:
        server.start_again()
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "waiting for PostgreSQL (attempt 1, next in 1 s)",
        "waiting for PostgreSQL (attempt 2, next in 1 s)",
        "error",
    ]
    assert lines[-1].startswith(f"error: cannot connect to PostgreSQL at {db.display}")
    assert lines[-1].endswith("gave up after waiting 2 s (POSSYNC_DATABASE_WAIT_SECONDS)")
