"""A worker killed with SIGKILL in the middle of a cycle over many shops: after a restart and
the next cycle, every shop equals its own store's truth, and no run is left open.

Bounded for CI (4 shops); POSSYNC_RELIABILITY_TRIALS set runs the issue's 50 shops. The jobs
the dead worker held stay `doing`, holding their shop's source, until its heartbeat is 30 s
old: the restarted worker then requeues them (`requeue_stalled_jobs`), and they resume from
their last committed page.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from bench.trials.square_truth import assert_square_matches_truth
from bench.trials.truth import assert_lightspeed_matches_truth
from cryptography.fernet import Fernet

from possync.db.connection import Database
from possync.simulator import FaultConfig, RunningSimulator, SimulatorConfig, running_simulator
from tests.conftest import make_settings
from tests.support.cli import RunPossync
from tests.support.environment import environment_for
from tests.support.shops import register_shop

pytestmark = pytest.mark.reliability

POSSYNC = Path(sys.executable).with_name("possync")
KEY = Fernet.generate_key().decode()
BOUNDED_SHOPS = 4
FULL_SHOPS = 50


def shop_count() -> int:
    return FULL_SHOPS if os.environ.get("POSSYNC_RELIABILITY_TRIALS") else BOUNDED_SHOPS


@pytest.fixture(scope="module")
def stores() -> Iterator[RunningSimulator]:
    # A little latency per request spreads the cycle over seconds, so the kill lands in it.
    config = SimulatorConfig(
        seed=61, scale="small", stores=shop_count(), faults=FaultConfig(latency_ms=2)
    )
    with running_simulator(config) as running:
        yield running


class Worker:
    """`possync worker` in a child process."""

    def __init__(self, env: dict[str, str], work_dir: Path) -> None:
        self.stderr_path = work_dir / f"worker-{time.monotonic_ns()}.txt"
        with self.stderr_path.open("wb") as err:
            self.process = subprocess.Popen(
                [str(POSSYNC), "worker"],
                env=env,
                cwd=work_dir,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=err,
            )

    def kill(self) -> bool:
        """SIGKILL; True if it was still running (the kill landed)."""
        alive = self.process.poll() is None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(30)
        return alive

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()


def job_counts(db: Database) -> dict[str, int]:
    with db.connect() as conn:
        rows = conn.execute(
            """SELECT status::text, count(*) FROM procrastinate_jobs
               WHERE task_name = 'possync.sync' GROUP BY 1"""
        ).fetchall()
    return {status: int(count) for status, count in rows}


def wait_for(condition: Callable[[], bool], what: Callable[[], str], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, what()
        time.sleep(0.05)


def superseded_only(db: Database) -> bool:
    """Every failed sync job has a later job of the same sync that succeeded."""
    with db.connect() as conn:
        row = conn.execute(
            """SELECT count(*) FROM procrastinate_jobs f
               WHERE f.task_name = 'possync.sync' AND f.status = 'failed'
                 AND NOT EXISTS (SELECT 1 FROM procrastinate_jobs s
                                 WHERE s.queueing_lock = f.queueing_lock AND s.id > f.id
                                   AND s.status = 'succeeded')"""
        ).fetchone()
    return row == (0,)


def test_worker_killed_mid_cycle_then_next_cycle_leaves_every_shop_equal_to_its_store(
    db: Database, tmp_path: Path, stores: RunningSimulator, possync_cli: RunPossync
) -> None:
    settings = make_settings(db, tmp_path, encryption_key=KEY)
    shops = {f"shop-{k}": k for k in range(1, shop_count() + 1)}
    for name, store in shops.items():
        register_shop(db, settings, name, stores, store)
    env = environment_for(
        db,
        tmp_path,
        POSSYNC_ENCRYPTION_KEY=KEY,
        POSSYNC_LIGHTSPEED_PAGE_SIZE="50",
        POSSYNC_WORKER_CONCURRENCY="2",
        POSSYNC_JOB_RETRY_BASE_SECONDS="1",
    )
    first_cycle = possync_cli("queue", "--all-shops", env=env)
    assert first_cycle.returncode == 0, first_cycle.explain()

    worker = Worker(env, tmp_path)
    try:
        # Mid-cycle: some shops done, some running (pages committed, others not yet).
        wait_for(
            lambda: job_counts(db).get("succeeded", 0) >= 1 and job_counts(db).get("doing", 0) >= 1,
            lambda: f"the first cycle did not get going: {job_counts(db)}",
            timeout=120,
        )
        assert worker.kill(), "the worker ended before the kill"
    finally:
        worker.stop()
    interrupted = job_counts(db)
    killed = interrupted.get("doing", 0)
    assert killed >= 1 and interrupted.get("todo", 0) >= 1, interrupted

    stores.simulator.advance(90)  # new sales and changes arrive before the next cycle
    restarted = Worker(env, tmp_path)
    try:
        next_cycle = possync_cli("queue", "--all-shops", env=env)
        assert next_cycle.returncode == 0, next_cycle.explain()
        wait_for(
            lambda: not {"todo", "doing"} & set(job_counts(db)),
            lambda: f"the jobs did not all end: {job_counts(db)}",
            timeout=180,
        )
    finally:
        restarted.stop()
    # A killed job is requeued, unless the next cycle queued the same sync meanwhile: then it
    # ends as failed and the newer job does its work. Nothing else failed.
    ended = job_counts(db)
    assert ended.get("failed", 0) <= killed, ended
    assert superseded_only(db)

    for name, store in shops.items():
        truth = httpx.get(stores.base_url + "/_simulator/truth", params={"store": store}).json()
        with Database(db.url, f"shop_{name.replace('-', '_')}").connect() as conn:
            assert_lightspeed_matches_truth(conn, truth["lightspeed"])
            assert_square_matches_truth(conn, truth["square"])
            open_runs = conn.execute(
                "SELECT count(*) FROM sync_log WHERE status = 'started'"
            ).fetchone()
            assert open_runs == (0,), f"{name}: a run was left open"
