"""Two `possync worker` processes on one database never run one entity twice at once.

Twelve sync jobs for the same entity are queued at once: eight share the entity's job lock
(procrastinate serialises them), four carry a different lock, as a job for "everything" would,
so only the engine's advisory lock stands between them. The sync_log intervals prove that no
two runs overlapped, and the outcomes show both workers took part.
"""

from __future__ import annotations

import itertools
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from possync.db.connection import Database
from possync.jobs.names import SYNC_TASK, sync_lock
from possync.jobs.queue import JobQueue
from possync.simulator import FaultConfig, RunningSimulator, SimulatorConfig, running_simulator
from tests.conftest import make_settings
from tests.jobs.conftest import wait_for_job
from tests.support.environment import possync_environment
from tests.support.workers import worker_processes

POSSYNC = Path(sys.executable).with_name("possync")
SAME_LOCK_JOBS = 8
OTHER_LOCK_JOBS = 4


@pytest.fixture
def slow_simulator() -> Iterator[RunningSimulator]:
    config = SimulatorConfig(seed=5, scale="small", square=False, faults=FaultConfig(latency_ms=25))
    with running_simulator(config) as sim:
        yield sim


def _worker_env(db: Database, sim: RunningSimulator) -> dict[str, str]:
    env = possync_environment()
    env.update(
        POSSYNC_DATABASE_URL=db.url,
        POSSYNC_LIGHTSPEED_URL=sim.lightspeed_url,
        POSSYNC_LIGHTSPEED_TOKEN=sim.token,
        POSSYNC_LIGHTSPEED_PAGE_SIZE="25",
        POSSYNC_WORKER_CONCURRENCY="2",
        POSSYNC_JOB_RETRY_BASE_SECONDS="1",
        POSSYNC_JOB_MAX_ATTEMPTS="30",
    )
    return env


@pytest.fixture
def two_workers(
    db: Database, slow_simulator: RunningSimulator, tmp_path: Path
) -> Iterator[list[subprocess.Popen[bytes]]]:
    env = _worker_env(db, slow_simulator)
    with worker_processes(env, tmp_path) as workers:
        yield workers


def test_two_workers_never_run_one_entity_at_once(
    db: Database,
    slow_simulator: RunningSimulator,
    tmp_path: Path,
    two_workers: list[subprocess.Popen[bytes]],
) -> None:
    settings = make_settings(
        db,
        tmp_path,
        lightspeed_url=slow_simulator.lightspeed_url,
        lightspeed_token=slow_simulator.token,
    )
    queue = JobQueue(settings, db)
    try:
        app = queue.app()
        same = app.configure_task(
            SYNC_TASK, queue="possync", lock=sync_lock("lightspeed", "products")
        )
        other = app.configure_task(SYNC_TASK, queue="possync", lock=sync_lock("lightspeed", ""))
        job_ids = [
            same.defer(source="lightspeed", entity="products", full=True)
            for _ in range(SAME_LOCK_JOBS)
        ]
        # A third job lock: three jobs can run at once, more than one process's two slots, so
        # both processes work (a process that just finished a job fetches the next one
        # before the other, idle one hears of it).
        third = app.configure_task(SYNC_TASK, queue="possync", lock="possync:test:third")
        job_ids += [
            (other if n % 2 else third).defer(source="lightspeed", entity="products", full=True)
            for n in range(OTHER_LOCK_JOBS)
        ]
    finally:
        queue.close()
    for job_id in job_ids:
        row = wait_for_job(db, job_id, timeout=120)
        assert row["status"] == "succeeded", (job_id, row)
    for worker in two_workers:
        assert worker.poll() is None, worker.stderr.read().decode() if worker.stderr else ""
    with db.connect() as conn:
        runs = conn.execute(
            """SELECT "timestamp", finished_at, status, records_processed FROM sync_log
               WHERE source = 'lightspeed' AND entity_type = 'products'
               ORDER BY "timestamp" """
        ).fetchall()
        workers = conn.execute(
            "SELECT count(DISTINCT split_part(worker, '/', 1)) FROM sync_job_outcomes WHERE ok"
        ).fetchone()
        products = conn.execute("SELECT count(*) FROM lightspeed_products").fetchone()
    assert len(runs) == SAME_LOCK_JOBS + OTHER_LOCK_JOBS
    assert all(status == "completed" for _, _, status, _ in runs)
    assert products is not None
    assert all(records == products[0] for _, _, _, records in runs)  # full re-reads
    for (start, end, _, _), (next_start, _, _, _) in itertools.pairwise(runs):
        assert end is not None and end <= next_start, f"runs overlap: {start}–{end} vs {next_start}"
    assert workers == (2,)


def test_workers_stop_cleanly_on_sigint(
    db: Database, two_workers: list[subprocess.Popen[bytes]]
) -> None:
    deadline = time.monotonic() + 60
    # Both started: each process registers two procrastinate workers (one kept from imports).
    while _registered_workers(db) < 4:
        assert time.monotonic() < deadline, "the workers did not start"
        time.sleep(0.2)
    for worker in two_workers:
        worker.send_signal(signal.SIGINT)
    codes = [worker.wait(timeout=30) for worker in two_workers]
    assert codes == [0, 0], [w.stderr.read().decode() if w.stderr else "" for w in two_workers]
    assert _registered_workers(db) == 0


def _registered_workers(db: Database) -> int:
    with db.connect() as conn:
        row = conn.execute("SELECT count(*) FROM procrastinate_workers").fetchone()
    return int(row[0]) if row else 0
