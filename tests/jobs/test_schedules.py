"""Schedules: one periodic dispatcher (every minute) and the housekeeping; the dispatcher
defers sync jobs (never syncs itself), and the housekeeping requeues jobs of a dead worker."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

from procrastinate.periodic import PeriodicDeferrer

from possync.config.settings import Settings
from possync.db.connection import Database
from possync.jobs.app import build_job_app
from possync.jobs.dispatch import dispatch_due
from possync.jobs.names import (
    DISPATCH_TASK,
    INCREMENTAL_TASK,
    MAINTENANCE_TASK,
    SCHEDULE_QUEUE,
)
from possync.jobs.queue import JobQueue
from possync.jobs.worker import BackgroundWorker
from possync.sources.registry import deep_pass_entities
from tests.conftest import make_settings
from tests.jobs.conftest import job_row, wait_for_job


def _ts(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


def test_one_periodic_dispatcher_and_the_housekeeping(db: Database, tmp_path: Path) -> None:
    # Not one periodic task per shop or schedule (procrastinate #1464): the dispatcher reads
    # every shop's crons itself, in each shop's zone (tests/jobs/test_dispatch.py).
    settings = make_settings(db, tmp_path, timezone="Europe/Berlin")
    registry = build_job_app(settings, db, schedules=True).periodic_registry
    crons = {key[1]: task.cron for key, task in registry.periodic_tasks.items()}
    assert crons == {DISPATCH_TASK: "* * * * *", MAINTENANCE_TASK: "*/5 * * * *"}
    assert {task.task.queue for task in registry.periodic_tasks.values()} == {SCHEDULE_QUEUE}
    due = PeriodicDeferrer(registry).get_previous_tasks(at=_ts("2026-06-02T00:00:30+00:00"))
    assert {(task.periodic_id, int(at)) for task, at in due} == {
        (DISPATCH_TASK, int(_ts("2026-06-02T00:00:00+00:00"))),
        (MAINTENANCE_TASK, int(_ts("2026-06-02T00:00:00+00:00"))),
    }


def test_task_names_are_the_ones_stored_with_queued_jobs(db: Database, tmp_path: Path) -> None:
    # Jobs already waiting in the queue carry these names: renaming a task would strand them.
    app = build_job_app(make_settings(db, tmp_path), db, schedules=True)
    ours = {name: task for name, task in app.tasks.items() if name.startswith("possync.")}
    assert sorted(ours) == [
        "possync.dispatch",
        "possync.maintenance",
        "possync.reconcile",
        "possync.scheduled_deep",
        "possync.scheduled_incremental",
        "possync.sync",
    ]


def test_deep_pass_reads_the_square_catalog() -> None:
    assert deep_pass_entities("square") == (
        "categories",
        "catalog_items",
        "catalog_item_variations",
    )
    assert deep_pass_entities("lightspeed") == ()


def test_a_worker_with_schedules_queues_the_hourly_sync_and_runs_it(
    job_settings: Settings, db: Database, queue: JobQueue
) -> None:
    # Started mid-hour, the scheduler defers this minute's dispatcher at once; the
    # dispatcher queues the environment's shop's hourly sync (a first: its import).
    worker = BackgroundWorker(job_settings, db, schedules=True)
    worker.start()
    try:
        deadline = time.monotonic() + 60
        row = None
        while row is None and time.monotonic() < deadline:
            with db.connect() as conn:
                row = conn.execute(
                    """SELECT id, args, queue_name FROM procrastinate_jobs
                       WHERE task_name = 'possync.sync' ORDER BY id"""
                ).fetchone()
            time.sleep(0.2)
        assert row is not None, "the dispatcher queued nothing"
        assert row[1] == {
            "source": "lightspeed",
            "entity": "",
            "full": False,
            "trigger": "schedule",
        }
        assert row[2] == "possync-import"
        assert wait_for_job(db, row[0])["status"] == "succeeded"
        # A job of the schedules from before the dispatcher, still queued after an upgrade,
        # runs the dispatcher: nothing more is due this hour, so it queues nothing.
        legacy = queue.app().configure_task(INCREMENTAL_TASK, queue="possync")
        assert wait_for_job(db, legacy.defer(timestamp=0))["status"] == "succeeded"
        with db.connect() as conn:
            syncs = conn.execute(
                "SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'possync.sync'"
            ).fetchone()
        assert syncs == (1,)
    finally:
        worker.stop()


def test_maintenance_requeues_jobs_of_a_dead_worker(
    job_settings: Settings, db: Database, queue: JobQueue
) -> None:
    with db.connect() as conn:
        dead = conn.execute(
            """INSERT INTO procrastinate_workers (last_heartbeat)
               VALUES (now() - interval '1 hour') RETURNING id"""
        ).fetchone()
        assert dead is not None
        stuck = conn.execute(
            """INSERT INTO procrastinate_jobs (queue_name, task_name, lock, args, status,
                                               worker_id)
               VALUES ('possync', 'possync.sync', 'possync:sync:lightspeed:outlets',
                       '{"source": "lightspeed", "entity": "outlets"}', 'doing', %s)
               RETURNING id""",
            (dead[0],),
        ).fetchone()
        conn.commit()
    assert stuck is not None
    settings = job_settings.model_copy(update={"schedule_incremental": "", "schedule_deep": ""})
    worker = BackgroundWorker(settings, db, schedules=True)
    worker.start()
    try:
        housekeeping = queue.app().configure_task(MAINTENANCE_TASK, queue="possync")
        assert wait_for_job(db, housekeeping.defer(timestamp=0))["status"] == "succeeded"
        # Requeued, then run by the live worker: its lock no longer blocks the entity.
        assert wait_for_job(db, stuck[0])["status"] == "succeeded"
    finally:
        worker.stop()
    assert job_row(db, stuck[0])["attempts"] >= 1


def test_the_deep_schedule_reconciles_each_imported_source(
    job_settings: Settings, db: Database, queue: JobQueue
) -> None:
    worker = BackgroundWorker(job_settings, db, schedules=False)
    worker.start()
    try:
        imported = queue.enqueue_sync("lightspeed")
        assert imported.is_import and imported.job_id is not None
        assert wait_for_job(db, imported.job_id)["status"] == "succeeded"
        dispatch_due(job_settings, db, queue, datetime(2026, 6, 1, 1, tzinfo=UTC))
        (deep,) = [
            d
            for d in dispatch_due(
                job_settings, db, queue, datetime(2026, 6, 1, 2, 0, 5, tzinfo=UTC)
            )
            if d.schedule == "deep"
        ]
        assert deep.reconciles == ["lightspeed"]
        with db.connect() as conn:
            row = conn.execute(
                """SELECT id, args, lock, queueing_lock FROM procrastinate_jobs
                   WHERE task_name = 'possync.reconcile'"""
            ).fetchone()
        assert row is not None
        assert row[1:] == (
            {"source": "lightspeed"},
            "possync:source:lightspeed",
            "possync:reconcile:lightspeed",
        )
        assert wait_for_job(db, row[0])["status"] == "succeeded"
        with db.connect() as conn:
            logged = conn.execute(
                "SELECT source, status FROM sync_log WHERE action = 'reconcile'"
            ).fetchall()
        assert logged == [("lightspeed", "completed")]
    finally:
        worker.stop()


def test_a_dead_workers_job_gives_way_to_a_newer_one_for_the_same_sync(
    job_settings: Settings, db: Database, queue: JobQueue
) -> None:
    # The worker died mid-sync; then a schedule (or a click) queued the same sync again: the
    # queueing lock was free, the stalled job being `doing`. That job cannot go back to the
    # queue beside the new one, and left `doing` it would hold the source's lock forever.
    lock, queueing_lock = "possync:source:lightspeed", "possync:sync:lightspeed:*"
    with db.connect() as conn:
        dead = conn.execute(
            """INSERT INTO procrastinate_workers (last_heartbeat)
               VALUES (now() - interval '1 hour') RETURNING id"""
        ).fetchone()
        assert dead is not None
        stuck = conn.execute(
            """INSERT INTO procrastinate_jobs (queue_name, task_name, lock, queueing_lock, args,
                                               status, worker_id)
               VALUES ('possync-import', 'possync.sync', %s, %s,
                       '{"source": "lightspeed", "entity": ""}', 'doing', %s)
               RETURNING id""",
            (lock, queueing_lock, dead[0]),
        ).fetchone()
        conn.commit()
    assert stuck is not None
    newer = queue.enqueue_sync("lightspeed", trigger="schedule")
    assert newer.job_id is not None
    settings = job_settings.model_copy(update={"schedule_incremental": "", "schedule_deep": ""})
    worker = BackgroundWorker(settings, db, schedules=True)
    worker.start()
    try:
        housekeeping = queue.app().configure_task(MAINTENANCE_TASK, queue="possync")
        assert wait_for_job(db, housekeeping.defer(timestamp=0))["status"] == "succeeded"
        assert wait_for_job(db, newer.job_id)["status"] == "succeeded"
    finally:
        worker.stop()
    assert job_row(db, stuck[0])["status"] == "failed"
