"""Sixty simulated days, two `possync worker` processes syncing the same two shops: access
tokens expire again and again on the vendors' clock, each expiry is met by a refresh, and no
rotated Lightspeed refresh token is ever sent twice (the simulator counts reuse)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from bench.trials.square_truth import assert_square_matches_truth
from bench.trials.truth import assert_lightspeed_matches_truth

from possync.db.connection import Database
from possync.jobs.queue import JobQueue
from possync.simulator import RunningSimulator, SimulatorConfig, running_simulator
from possync.web import create_app
from tests.jobs.conftest import wait_for_job
from tests.oauth.conftest import (
    connect_through_dashboard,
    oauth_counters,
    oauth_settings,
    oauth_variables,
)
from tests.support.environment import environment_for
from tests.support.workers import worker_processes
from tests.web.conftest import log_in

STEP_MINUTES = 7 * 24 * 60 + 12 * 60  # 7.5 days: every Lightspeed token (7 days) lapses
STEPS = 8  # 60 days
SHOPS = {"north": 1, "south": 2}  # shop → the simulated store it connects
# Per connection and step: a job for everything and two for single entities, which hold other
# job locks, so several jobs of one connection meet the same expired token at once.
ENTITY_JOBS = {"lightspeed": ("products", "sales"), "square": ("orders", "payments")}


@pytest.fixture
def sim() -> Iterator[RunningSimulator]:
    with running_simulator(SimulatorConfig(seed=21, scale="small", stores=2)) as running:
        yield running


@pytest.fixture
def two_workers(
    db: Database, sim: RunningSimulator, tmp_path: Path
) -> Iterator[list[subprocess.Popen[bytes]]]:
    env = environment_for(
        db,
        tmp_path,
        **oauth_variables(sim),
        POSSYNC_WORKER_CONCURRENCY="2",
        POSSYNC_SCHEDULE_INCREMENTAL="",
        POSSYNC_SCHEDULE_DEEP="",
        POSSYNC_JOB_RETRY_BASE_SECONDS="1",
    )
    with worker_processes(env, tmp_path) as workers:
        yield workers


def queued_jobs(db: Database) -> list[int]:
    with db.connect() as conn:
        rows = conn.execute(
            "SELECT id FROM procrastinate_jobs WHERE task_name = 'possync.sync' ORDER BY id"
        ).fetchall()
    return [row[0] for row in rows]


def wait_for_all(db: Database, job_ids: list[int]) -> None:
    for job_id in job_ids:
        row = wait_for_job(db, job_id, timeout=180)
        assert row["status"] == "succeeded", (job_id, row)


def test_sixty_days_of_refreshes_with_two_workers_never_reuse_a_rotated_token(
    db: Database,
    tmp_path: Path,
    sim: RunningSimulator,
    two_workers: list[subprocess.Popen[bytes]],
) -> None:
    settings = oauth_settings(db, tmp_path, sim)
    dashboard = create_app(settings, db)
    client = dashboard.test_client()
    assert log_in(client).status_code == 302
    for name, store in SHOPS.items():
        for vendor in ("lightspeed", "square"):
            connect_through_dashboard(client, sim, vendor, name, store)
    dashboard.extensions["possync"].job_queue.close()
    wait_for_all(db, queued_jobs(db))  # the first imports the connections queued

    queue = JobQueue(settings, db)
    try:
        for _ in range(STEPS):
            httpx.post(sim.base_url + "/_simulator/advance", json={"minutes": STEP_MINUTES})
            job_ids = []
            for name in SHOPS:
                for source, entities in ENTITY_JOBS.items():
                    for entity in ("", *entities):
                        queued = queue.enqueue_sync(source, entity, shop=name, trigger="test")
                        if queued.job_id is not None:
                            job_ids.append(queued.job_id)
            wait_for_all(db, job_ids)
        final = [queue.enqueue_sync(s, shop=n).job_id for n in SHOPS for s in ENTITY_JOBS]
        wait_for_all(db, [job_id for job_id in final if job_id is not None])
    finally:
        queue.close()

    for worker in two_workers:
        assert worker.poll() is None, worker.stderr.read().decode() if worker.stderr else ""
    counters = oauth_counters(sim)
    lightspeed, square = counters["lightspeed"], counters["square"]
    assert isinstance(lightspeed, dict) and isinstance(square, dict)
    assert counters["reused_refresh_tokens"] == 0
    assert counters["refused_refresh_tokens"] == 0
    # Each Lightspeed connection refreshed after every step; Square's 30-day tokens twice.
    assert lightspeed["refreshes"] >= STEPS * len(SHOPS)
    assert square["refreshes"] >= 2 * len(SHOPS)
    with db.connect() as conn:
        statuses = conn.execute("SELECT DISTINCT status FROM possync_shop_connections").fetchall()
        # Each job's outcome is kept in its shop's schema.
        workers = conn.execute(
            # A worker process runs two procrastinate workers (NAME and NAME/no-imports).
            """SELECT count(DISTINCT split_part(worker, '/', 1)) FROM (
                   SELECT worker FROM shop_north.sync_job_outcomes WHERE ok
                   UNION ALL SELECT worker FROM shop_south.sync_job_outcomes WHERE ok) AS w"""
        ).fetchone()
    assert statuses == [("ok",)] and workers == (2,)
    for name, store in SHOPS.items():
        truth = httpx.get(sim.base_url + "/_simulator/truth", params={"store": store}).json()
        with Database(db.url, f"shop_{name}").connect() as conn:
            failed = conn.execute("SELECT count(*) FROM sync_log WHERE status = 'failed'")
            assert failed.fetchone() == (0,)
            assert_lightspeed_matches_truth(conn, truth["lightspeed"])
            assert_square_matches_truth(conn, truth["square"])
