"""Sync jobs on procrastinate against the Lightspeed simulator and real PostgreSQL: locks,
retries, outcomes, and the schema `possync migrate` installs."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from procrastinate.jobs import Job

from possync.config.settings import Settings
from possync.db.connection import Database
from possync.db.locks import entity_lock_key
from possync.db.migrate import migrate
from possync.errors import SyncLockedError
from possync.jobs.app import build_job_app
from possync.jobs.names import SYNC_TASK, sync_lock
from possync.jobs.queue import JobQueue
from possync.jobs.sync_task import SyncJobFailed, TransientSyncFailure
from possync.jobs.worker import BackgroundWorker
from tests.conftest import make_settings
from tests.jobs.conftest import job_row, wait_for_job


@pytest.fixture
def worker(job_settings: Settings, db: Database) -> Iterator[BackgroundWorker]:
    background = BackgroundWorker(job_settings, db, schedules=False)
    background.start()
    yield background
    background.stop()
    assert not background.is_alive


def test_migrate_installs_the_job_queue_in_the_configured_schema(
    empty_db: Database, tmp_path: Path
) -> None:
    shop = Database(empty_db.url, "shop_a")
    settings = make_settings(shop, tmp_path, schema_name="shop_a")
    migrate(shop, settings)
    migrate(shop, settings)  # a second run changes nothing
    with psycopg.connect(empty_db.url) as conn:
        tables = {
            row[0]
            for row in conn.execute(
                """SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                   WHERE n.nspname = 'shop_a' AND c.relkind = 'r' AND c.relrowsecurity"""
            )
        }
        in_public = conn.execute("SELECT to_regclass('public.procrastinate_jobs')").fetchone()
    assert {"procrastinate_jobs", "procrastinate_events", "sync_job_outcomes"} <= tables
    assert in_public == (None,)
    queue = JobQueue(settings, shop)
    try:
        assert queue.enqueue_sync("lightspeed", "products").job_id == 1
    finally:
        queue.close()


def test_a_job_syncs_the_entity_and_records_what_it_did(
    queue: JobQueue, db: Database, worker: BackgroundWorker
) -> None:
    job = queue.enqueue_sync("lightspeed", "outlets")
    assert job.job_id is not None
    assert wait_for_job(db, job.job_id)["status"] == "succeeded"
    with db.connect() as conn:
        state = conn.execute(
            """SELECT status, records_total FROM sync_state
               WHERE source = 'lightspeed' AND entity_type = 'outlets'"""
        ).fetchone()
        stored = conn.execute("SELECT count(*) FROM lightspeed_outlets").fetchone()
        outcome = conn.execute(
            "SELECT ok, records, failed, error, worker, cardinality(run_ids) FROM sync_job_outcomes"
        ).fetchone()
        log = conn.execute(
            "SELECT status, records_processed FROM sync_log WHERE entity_type = 'outlets'"
        ).fetchall()
    assert stored is not None and stored[0] > 0
    assert state == ("success", stored[0])
    assert outcome is not None
    assert outcome[:4] == (True, stored[0], 0, None)
    assert outcome[4].startswith("possync@") and outcome[5] == 1
    assert log == [("completed", stored[0])]


def test_a_locked_entity_is_retried_with_backoff(
    queue: JobQueue, db: Database, worker: BackgroundWorker
) -> None:
    namespace, name = entity_lock_key("lightspeed", "outlets")
    with psycopg.connect(db.url, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(hashtext(%s), hashtext(%s))", (namespace, name))
        job = queue.enqueue_sync("lightspeed", "outlets")
        assert job.job_id is not None
        deadline = time.monotonic() + 30
        while job_row(db, job.job_id)["attempts"] < 1:
            assert time.monotonic() < deadline, "the job never ran"
            time.sleep(0.1)
        # Skipped (another run holds the entity): back in the queue for a later attempt.
        assert job_row(db, job.job_id)["status"] in ("todo", "doing")
    final = wait_for_job(db, job.job_id)
    assert final["status"] == "succeeded" and final["attempts"] >= 2
    with db.connect() as conn:
        events = [
            r[0]
            for r in conn.execute(
                "SELECT type::text FROM procrastinate_events WHERE job_id = %s ORDER BY id",
                (job.job_id,),
            )
        ]
    assert "deferred_for_retry" in events


def test_a_rejected_token_fails_without_retrying(
    db: Database, tmp_path: Path, job_settings: Settings
) -> None:
    bad = make_settings(
        db,
        tmp_path,
        lightspeed_url=job_settings.lightspeed_url,
        lightspeed_token="wrong-token",
        job_max_attempts=3,
        job_retry_base_seconds=1,
    )
    background = BackgroundWorker(bad, db, schedules=False)
    background.start()
    queue = JobQueue(bad, db)
    try:
        job = queue.enqueue_sync("lightspeed", "outlets")
        assert job.job_id is not None
        final = wait_for_job(db, job.job_id)
    finally:
        queue.close()
        background.stop()
    assert final == {**final, "status": "failed", "attempts": 1}
    with db.connect() as conn:
        outcome = conn.execute("SELECT ok, error FROM sync_job_outcomes").fetchone()
    assert outcome is not None and outcome[0] is False
    assert outcome[1].startswith("outlets: critical:")
    assert "wrong-token" not in outcome[1]


def test_retry_strategy_retries_only_transient_failures(
    job_settings: Settings, db: Database
) -> None:
    strategy = build_job_app(job_settings, db).tasks[SYNC_TASK].retry_strategy
    assert strategy is not None
    job = Job(
        id=1,
        queue="possync",
        lock=None,
        queueing_lock=None,
        task_name=SYNC_TASK,
        task_kwargs={},
        attempts=0,
    )
    for retried in (
        TransientSyncFailure("HTTP 503"),
        SyncLockedError("busy"),
        psycopg.OperationalError("gone"),
    ):
        decision = strategy.get_retry_decision(exception=retried, job=job)
        assert decision is not None, retried
    assert strategy.get_retry_decision(exception=SyncJobFailed("token"), job=job) is None
    assert strategy.get_retry_decision(exception=ValueError("bug"), job=job) is None
    last = job.evolve(attempts=job_settings.job_max_attempts)
    assert strategy.get_retry_decision(exception=TransientSyncFailure("x"), job=last) is None


def test_locks_name_source_and_entity() -> None:
    assert sync_lock("lightspeed", "products") == "possync:sync:lightspeed:products"
    assert sync_lock("square", "") == "possync:sync:square:*"


def test_a_run_that_cannot_start_fails_once_and_says_why(
    queue: JobQueue, db: Database, worker: BackgroundWorker
) -> None:
    deferrer = queue.app().configure_task(SYNC_TASK, queue="possync")
    job_id = deferrer.defer(source="lightspeed", entity="unicorns")
    final = wait_for_job(db, job_id)
    assert (final["status"], final["attempts"]) == ("failed", 1)
    with db.connect() as conn:
        outcome = conn.execute(
            "SELECT ok, error FROM sync_job_outcomes WHERE job_id = %s", (job_id,)
        ).fetchone()
    assert outcome is not None and outcome[0] is False
    assert outcome[1].startswith("unknown lightspeed entity 'unicorns'")
