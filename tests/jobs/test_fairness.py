"""Fairness between shops: a big shop's import never holds every worker slot while the other
shops' hourly syncs wait, and a shop's source runs one job at a time on any worker.

Two big shops start their first imports; then two small, already imported shops queue their
hourly syncs. Each worker process keeps one of its slots from imports (`worker_options`), and
imports go behind other syncs (their own queue, a lower priority): the small shops' syncs
finish while the imports still run. With a plain first-come queue both slots would import and
the small shops would wait for an import to end.

And a shop whose POS answers nothing but server errors holds one slot while its job retries;
the other shops' syncs go through meanwhile.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from possync.config.settings import Settings
from possync.db.connection import Database
from possync.engine.run import SyncRequest, run_sync
from possync.jobs.queue import JobQueue
from possync.jobs.worker import BackgroundWorker
from possync.shops.resolve import shop_database, shop_settings
from possync.simulator import FaultConfig, RunningSimulator, SimulatorConfig, running_simulator
from tests.conftest import make_settings
from tests.jobs.conftest import wait_for_job
from tests.support.shops import register_shop

KEY = Fernet.generate_key().decode()


@pytest.fixture(scope="module")
def stores() -> Iterator[RunningSimulator]:
    # Store 1 is the biggest; a little latency per request makes its import take seconds.
    config = SimulatorConfig(
        seed=31, scale="small", stores=3, square=False, faults=FaultConfig(latency_ms=15)
    )
    with running_simulator(config) as running:
        yield running


@pytest.fixture
def settings(db: Database, tmp_path: Path) -> Settings:
    return make_settings(
        db,
        tmp_path,
        encryption_key=KEY,
        lightspeed_page_size=20,
        worker_concurrency=2,
        job_retry_base_seconds=1,
    )


def finished_at(db: Database, job_id: int) -> datetime:
    with db.connect() as conn:
        row = conn.execute(
            """SELECT max(at) FROM procrastinate_events
               WHERE job_id = %s AND type = 'succeeded'""",
            (job_id,),
        ).fetchone()
    assert row is not None and row[0] is not None, f"job {job_id} has not succeeded"
    return row[0]  # type: ignore[no-any-return]


def test_small_shops_hourly_syncs_finish_while_big_shops_import(
    db: Database, settings: Settings, stores: RunningSimulator
) -> None:
    small = [register_shop(db, settings, f"small-{k}", stores, k, square=False) for k in (2, 3)]
    for shop in small:  # imported before: their syncs are hourly ones
        report = run_sync(
            shop_settings(settings, shop), shop_database(db, shop), SyncRequest("lightspeed")
        )
        assert not report.failed
    for name in ("big-a", "big-b"):
        register_shop(db, settings, name, stores, 1, square=False)

    queue = JobQueue(settings, db)
    worker = BackgroundWorker(settings, db, schedules=False)
    try:
        imports = [queue.enqueue_sync("lightspeed", shop=name) for name in ("big-a", "big-b")]
        assert all(job.is_import for job in imports)
        worker.start()
        deadline = time.monotonic() + 30
        while not _running(db, imports[0].job_id):  # an import holds a slot
            assert time.monotonic() < deadline, "the import did not start"
            time.sleep(0.05)
        hourly = [
            queue.enqueue_sync("lightspeed", trigger="schedule", shop=shop.name) for shop in small
        ]
        assert not any(job.is_import for job in hourly)
        for job in hourly:
            assert job.job_id is not None
            assert wait_for_job(db, job.job_id, timeout=120)["status"] == "succeeded"
        for job in imports:
            assert job.job_id is not None
            assert wait_for_job(db, job.job_id, timeout=180)["status"] == "succeeded"
    finally:
        worker.stop()
        queue.close()
    last_hourly = max(finished_at(db, job.job_id) for job in hourly if job.job_id)
    first_import = min(finished_at(db, job.job_id) for job in imports if job.job_id)
    assert last_hourly < first_import, (last_hourly, first_import)


def _running(db: Database, job_id: int | None) -> bool:
    with db.connect() as conn:
        row = conn.execute(
            "SELECT status::text FROM procrastinate_jobs WHERE id = %s", (job_id,)
        ).fetchone()
    return row is not None and row[0] == "doing"


def test_a_shop_whose_api_fails_delays_no_other(
    db: Database, settings: Settings, stores: RunningSimulator
) -> None:
    # The broken shop's job retries its requests for a minute (server errors): it holds one
    # slot (one job per shop's source), and the other shops' syncs go through the other.
    fine = [register_shop(db, settings, f"fine-{k}", stores, k, square=False) for k in (2, 3)]
    for shop in fine:
        report = run_sync(
            shop_settings(settings, shop), shop_database(db, shop), SyncRequest("lightspeed")
        )
        assert not report.failed
    register_shop(db, settings, "broken", stores, 1, square=False)
    stores.simulator.set_faults(FaultConfig(error_rate=1.0), 1)
    queue = JobQueue(settings, db)
    worker = BackgroundWorker(settings, db, schedules=False)
    try:
        broken = queue.enqueue_sync("lightspeed", shop="broken")
        worker.start()
        deadline = time.monotonic() + 30
        while not _running(db, broken.job_id):
            assert time.monotonic() < deadline, "the broken shop's job did not start"
            time.sleep(0.05)
        hourly = [queue.enqueue_sync("lightspeed", shop=shop.name) for shop in fine]
        for job in hourly:
            assert job.job_id is not None
            assert wait_for_job(db, job.job_id, timeout=60)["status"] == "succeeded"
        # Not done yet: retrying its server errors, or waiting for its next attempt.
        assert wait_for_job(db, broken.job_id or 0, ("doing", "todo"), timeout=1)
        stores.simulator.set_faults(FaultConfig(latency_ms=15), 1)  # the POS comes back
        assert broken.job_id is not None
        assert wait_for_job(db, broken.job_id, timeout=120)["status"] == "succeeded"
    finally:
        stores.simulator.set_faults(FaultConfig(latency_ms=15), 1)
        worker.stop()
        queue.close()
