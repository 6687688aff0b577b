"""Fixtures for the job tests: the Lightspeed simulator, settings pointing at it, and helpers
that wait on procrastinate's jobs table."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from possync.config.settings import Settings
from possync.db.connection import Database
from possync.jobs.queue import JobQueue
from possync.simulator import RunningSimulator
from tests.conftest import make_settings
from tests.support.simulators import simulator_fixture

simulator = simulator_fixture(seed=11, square=False)


@pytest.fixture
def job_settings(db: Database, tmp_path: Path, simulator: RunningSimulator) -> Settings:
    return make_settings(
        db,
        tmp_path,
        lightspeed_url=simulator.lightspeed_url,
        lightspeed_token=simulator.token,
        lightspeed_page_size=100,
        job_retry_base_seconds=1,
        job_max_attempts=3,
        worker_concurrency=2,
    )


@pytest.fixture
def queue(job_settings: Settings, db: Database) -> Iterator[JobQueue]:
    job_queue = JobQueue(job_settings, db)
    yield job_queue
    job_queue.close()


def job_row(db: Database, job_id: int) -> dict[str, Any]:
    with db.connect() as conn:
        row = conn.execute(
            "SELECT status::text, attempts, args FROM procrastinate_jobs WHERE id = %s", (job_id,)
        ).fetchone()
    assert row is not None, f"job {job_id} not found"
    return {"status": row[0], "attempts": row[1], "args": row[2]}


def wait_for_job(
    db: Database,
    job_id: int,
    statuses: tuple[str, ...] = ("succeeded", "failed"),
    timeout: float = 60.0,
) -> dict[str, Any]:
    """Poll until the job reaches one of `statuses`; fail with its last state otherwise."""
    deadline = time.monotonic() + timeout
    row = job_row(db, job_id)
    while row["status"] not in statuses:
        if time.monotonic() > deadline:
            pytest.fail(f"job {job_id} still {row['status']} after {timeout} s")
        time.sleep(0.1)
        row = job_row(db, job_id)
    return row
