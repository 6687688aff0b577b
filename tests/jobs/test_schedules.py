"""Schedules: cron read in the shop's time zone, deferring sync jobs (never syncing
themselves), and the housekeeping that requeues jobs of a dead worker."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

from procrastinate.periodic import PeriodicDeferrer

from possync.config.settings import Settings
from possync.db.connection import Database
from possync.jobs.app import build_job_app
from possync.jobs.names import DEEP_TASK, INCREMENTAL_TASK, MAINTENANCE_TASK
from possync.jobs.queue import JobQueue
from possync.jobs.schedule import next_run
from possync.jobs.worker import BackgroundWorker
from possync.sources.registry import deep_pass_entities
from tests.conftest import make_settings
from tests.jobs.conftest import job_row, wait_for_job


def _ts(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


def test_cron_is_read_in_the_shop_time_zone(db: Database, tmp_path: Path) -> None:
    settings = make_settings(db, tmp_path, timezone="Europe/Berlin")
    registry = build_job_app(settings, db, schedules=True).periodic_registry
    crons = {key[1]: task.cron for key, task in registry.periodic_tasks.items()}
    assert crons == {
        INCREMENTAL_TASK: "0 * * * *",
        DEEP_TASK: "0 2 * * *",
        MAINTENANCE_TASK: "*/5 * * * *",
    }
    deep = next(t for k, t in registry.periodic_tasks.items() if k[1] == DEEP_TASK)
    # 02:00 in Berlin: 00:00 UTC in summer (CEST), 01:00 UTC in winter (CET).
    summer = deep.croniter.get_next(ret_type=float, start_time=_ts("2026-06-01T12:00:00+00:00"))
    winter = deep.croniter.get_next(ret_type=float, start_time=_ts("2026-01-15T12:00:00+00:00"))
    assert summer == _ts("2026-06-02T00:00:00+00:00")
    assert winter == _ts("2026-01-16T01:00:00+00:00")
    # procrastinate's own deferrer, at 00:00:30 UTC on a summer night, defers the deep pass.
    due = PeriodicDeferrer(registry).get_previous_tasks(at=_ts("2026-06-02T00:00:30+00:00"))
    assert {(task.periodic_id, int(at)) for task, at in due} >= {
        (DEEP_TASK, int(_ts("2026-06-02T00:00:00+00:00"))),
        (INCREMENTAL_TASK, int(_ts("2026-06-02T00:00:00+00:00"))),
    }
    assert next_run("0 2 * * *", "Europe/Berlin", datetime(2026, 1, 15, 12, tzinfo=UTC)) == (
        datetime(2026, 1, 16, 1, tzinfo=UTC)
    )


def test_an_empty_schedule_is_off(db: Database, tmp_path: Path) -> None:
    settings = make_settings(db, tmp_path, schedule_deep="", schedule_incremental="")
    registry = build_job_app(settings, db, schedules=True).periodic_registry
    assert [key[1] for key in registry.periodic_tasks] == [MAINTENANCE_TASK]


def test_task_names_are_the_ones_stored_with_queued_jobs(db: Database, tmp_path: Path) -> None:
    # Jobs already waiting in the queue carry these names: renaming a task would strand them.
    app = build_job_app(make_settings(db, tmp_path), db, schedules=True)
    ours = {name: task for name, task in app.tasks.items() if name.startswith("possync.")}
    assert sorted(ours) == [
        "possync.maintenance",
        "possync.reconcile",
        "possync.scheduled_deep",
        "possync.scheduled_incremental",
        "possync.sync",
    ]
    assert {task.queue for task in ours.values()} == {"possync"}


def test_deep_pass_reads_the_square_catalog() -> None:
    assert deep_pass_entities("square") == (
        "categories",
        "catalog_items",
        "catalog_item_variations",
    )
    assert deep_pass_entities("lightspeed") == ()


def test_the_incremental_schedule_defers_a_sync_per_source(
    job_settings: Settings, db: Database, queue: JobQueue
) -> None:
    settings = job_settings.model_copy(update={"schedule_incremental": "", "schedule_deep": ""})
    worker = BackgroundWorker(settings, db, schedules=True)
    worker.start()
    try:
        deferrer = queue.app().configure_task(INCREMENTAL_TASK, queue="possync")
        scheduled = deferrer.defer(timestamp=int(time.time()))
        assert wait_for_job(db, scheduled)["status"] == "succeeded"
        with db.connect() as conn:
            row = conn.execute(
                """SELECT id, args FROM procrastinate_jobs
                   WHERE task_name = 'possync.sync' ORDER BY id"""
            ).fetchone()
        assert row is not None
        assert row[1] == {
            "source": "lightspeed",
            "entity": "",
            "full": False,
            "trigger": "schedule",
        }
        assert wait_for_job(db, row[0])["status"] == "succeeded"
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


def test_the_deep_schedule_reconciles_each_source(
    job_settings: Settings, db: Database, queue: JobQueue
) -> None:
    settings = job_settings.model_copy(update={"schedule_incremental": "", "schedule_deep": ""})
    worker = BackgroundWorker(settings, db, schedules=True)
    worker.start()
    try:
        deep = queue.app().configure_task(DEEP_TASK, queue="possync")
        assert wait_for_job(db, deep.defer(timestamp=int(time.time())))["status"] == "succeeded"
        with db.connect() as conn:
            row = conn.execute(
                """SELECT id, args, lock FROM procrastinate_jobs
                   WHERE task_name = 'possync.reconcile'"""
            ).fetchone()
        assert row is not None
        assert row[1] == {"source": "lightspeed"} and row[2] == "possync:reconcile:lightspeed"
        assert wait_for_job(db, row[0])["status"] == "succeeded"
        with db.connect() as conn:
            logged = conn.execute(
                "SELECT source, status FROM sync_log WHERE action = 'reconcile'"
            ).fetchall()
        assert logged == [("lightspeed", "completed")]
    finally:
        worker.stop()
