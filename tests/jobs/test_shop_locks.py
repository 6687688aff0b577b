"""Two `possync worker` processes and many queued jobs for several shops: no two runs of one
shop's source ever overlap (so neither do two of one (shop, source, entity)), while different
shops run side by side; every shop ends equal to its store.

Each shop gets, per source, a sync of everything, a full re-read of one entity and a sync of
another: three jobs with different queueing locks, all waiting at once (the job of everything
and the one of a single entity would otherwise run one entity at the same time). They share their
running lock, named after (shop, source): one at a time, the whole rate-limit budget of that
retailer or merchant to itself. The sync_log rows of every shop's schema prove it.
"""

from __future__ import annotations

import itertools
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from bench.trials.square_truth import assert_square_matches_truth
from bench.trials.truth import assert_lightspeed_matches_truth
from cryptography.fernet import Fernet

from possync.db.connection import Database
from possync.jobs.queue import JobQueue
from possync.simulator import FaultConfig, RunningSimulator, SimulatorConfig, running_simulator
from tests.conftest import make_settings
from tests.jobs.conftest import wait_for_job
from tests.support.environment import environment_for
from tests.support.shops import register_shop
from tests.support.workers import worker_processes

KEY = Fernet.generate_key().decode()
SHOPS = {"one": 1, "two": 2, "three": 3}
EXTRA_JOBS = {"lightspeed": ("products", "customers"), "square": ("catalog_items", "customers")}


@pytest.fixture(scope="module")
def stores() -> Iterator[RunningSimulator]:
    config = SimulatorConfig(seed=41, scale="small", stores=3, faults=FaultConfig(latency_ms=5))
    with running_simulator(config) as running:
        yield running


@pytest.fixture
def workers(db: Database, tmp_path: Path) -> Iterator[list[subprocess.Popen[bytes]]]:
    env = environment_for(
        db,
        tmp_path,
        POSSYNC_ENCRYPTION_KEY=KEY,
        POSSYNC_LIGHTSPEED_PAGE_SIZE="50",
        POSSYNC_WORKER_CONCURRENCY="2",
        POSSYNC_JOB_RETRY_BASE_SECONDS="1",
    )
    with worker_processes(env, tmp_path) as processes:
        yield processes


def test_two_workers_never_run_one_shops_source_twice_at_once(
    db: Database,
    tmp_path: Path,
    stores: RunningSimulator,
    workers: list[subprocess.Popen[bytes]],
) -> None:
    settings = make_settings(db, tmp_path, encryption_key=KEY)
    for name, store in SHOPS.items():
        register_shop(db, settings, name, stores, store)
    queue = JobQueue(settings, db)
    try:
        job_ids = []
        for name, source in itertools.product(SHOPS, ("lightspeed", "square")):
            first, second = EXTRA_JOBS[source]
            queued = [
                queue.enqueue_sync(source, shop=name),
                queue.enqueue_sync(source, first, full=True, shop=name),
                queue.enqueue_sync(source, second, shop=name),
            ]
            again = queue.enqueue_sync(source, shop=name)
            # The queueing lock: one waiting job per entity; once a worker has taken the
            # first (it no longer waits), the same sync may be queued again.
            assert again.already_queued or _status(db, queued[0].job_id) != "todo"
            queued.append(again)
            job_ids += [job.job_id for job in queued if job.job_id is not None]
    finally:
        queue.close()
    assert 3 * 2 * 3 <= len(job_ids) <= 3 * 2 * 4
    for job_id in job_ids:
        assert wait_for_job(db, job_id, timeout=240)["status"] == "succeeded", job_id
    for process in workers:
        assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""

    runs: list[tuple[str, str, str, Any, Any]] = []
    workers_seen: set[str] = set()
    for name, store in SHOPS.items():
        schema = f"shop_{name}"
        truth = httpx.get(stores.base_url + "/_simulator/truth", params={"store": store}).json()
        with Database(db.url, schema).connect() as conn:
            assert_lightspeed_matches_truth(conn, truth["lightspeed"])
            assert_square_matches_truth(conn, truth["square"])
            # One row per entity and run; a parent's child rows (sale line items) share its
            # run: one interval per run.
            for source, entity, start, end, failed in conn.execute(
                """SELECT source, min(entity_type), min("timestamp"), max(finished_at),
                          count(*) FILTER (WHERE status <> 'completed')
                   FROM sync_log WHERE action <> 'reconcile' GROUP BY run_id, source"""
            ):
                assert failed == 0, (schema, source, entity)
                runs.append((schema, source, entity, start, end))
            workers_seen |= {
                row[0]
                for row in conn.execute(
                    "SELECT DISTINCT split_part(worker, '/', 1) FROM sync_job_outcomes"
                )
            }
    assert len(workers_seen) == 2  # both processes took part

    by_source = itertools.groupby(
        sorted(runs, key=lambda r: (r[0], r[1], r[3])), key=lambda r: r[:2]
    )
    for (schema, source), group in by_source:
        ordered = list(group)
        for earlier, later in itertools.pairwise(ordered):
            assert earlier[4] <= later[3], f"{schema} {source}: {earlier[2]} overlaps {later[2]}"
    # Different shops did run side by side: one shop's lock never held the others back.
    starts_ends = sorted((r[3], r[4], r[0]) for r in runs)
    assert any(a[2] != b[2] and b[0] < a[1] for a, b in itertools.pairwise(starts_ends)), (
        "no two shops ever synced at the same time"
    )


def _status(db: Database, job_id: int | None) -> str:
    with db.connect() as conn:
        row = conn.execute("SELECT status::text FROM procrastinate_jobs WHERE id = %s", (job_id,))
        found = row.fetchone()
    return str(found[0]) if found else "missing"
