"""A shop's queued jobs after the shop changed: paused, its scheduled and retried jobs do
nothing (a person's "sync now" still runs); removed, they end quietly; its secrets unreadable,
the job fails and the jobs page says why."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from possync.config.settings import Settings
from possync.db.connection import Database
from possync.jobs.queue import JobQueue
from possync.jobs.worker import BackgroundWorker
from possync.shops.registry import delete_shop, set_paused
from possync.simulator import RunningSimulator, SimulatorConfig, running_simulator
from tests.conftest import make_settings
from tests.jobs.conftest import wait_for_job
from tests.support.shops import register_shop

KEY = Fernet.generate_key().decode()


@pytest.fixture(scope="module")
def stores() -> Iterator[RunningSimulator]:
    with running_simulator(SimulatorConfig(seed=41, scale="small", stores=2)) as running:
        yield running


@pytest.fixture
def settings(db: Database, tmp_path: Path) -> Settings:
    return make_settings(db, tmp_path, encryption_key=KEY, job_retry_base_seconds=1)


def _runs(db: Database, schema: str) -> int:
    with Database(db.url, schema).connect() as conn:
        row = conn.execute("SELECT count(*) FROM sync_log").fetchone()
    assert row is not None
    return int(row[0])


def test_paused_removed_and_unreadable_shops_jobs(
    db: Database, settings: Settings, stores: RunningSimulator
) -> None:
    register_shop(db, settings, "north", stores, 1, square=False)
    register_shop(db, settings, "south", stores, 2, square=False)
    with db.connect() as conn:
        set_paused(conn, "north", True)
        conn.commit()
    queue = JobQueue(settings, db)
    worker = BackgroundWorker(settings, db, schedules=False)
    try:
        scheduled = queue.enqueue_sync("lightspeed", "outlets", shop="north", trigger="schedule")
        clicked = queue.enqueue_sync("lightspeed", "users", shop="north", trigger="manual")
        worker.start()
        for job in (scheduled, clicked):
            assert job.job_id is not None
            assert wait_for_job(db, job.job_id)["status"] == "succeeded"
        assert _runs(db, "shop_north") == 1  # the click ran; the schedule did nothing

        with db.connect() as conn:
            delete_shop(conn, "south")
            conn.commit()
        gone = queue.enqueue_sync("lightspeed", "outlets", shop="south", trigger="schedule")
        assert gone.job_id is not None
        assert wait_for_job(db, gone.job_id)["status"] == "succeeded"
        assert _runs(db, "shop_south") == 0

        # North's token now under a key this worker does not have: the job fails, and says so.
        other = make_settings(db, Path("/nonexistent"), encryption_key=Fernet.generate_key())
        register_shop(db, other, "east", stores, 2, square=False)
        unreadable = queue.enqueue_sync("lightspeed", "outlets", shop="east", trigger="manual")
        assert unreadable.job_id is not None
        assert wait_for_job(db, unreadable.job_id)["status"] == "failed"
        with Database(db.url, "shop_east").connect() as conn:
            outcome = conn.execute(
                "SELECT error FROM sync_job_outcomes WHERE job_id = %s", (unreadable.job_id,)
            ).fetchone()
        assert outcome is not None and outcome[0].startswith("shop east: ")
        assert "POSSYNC_ENCRYPTION_KEY" in outcome[0]
    finally:
        worker.stop()
        queue.close()
