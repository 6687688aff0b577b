"""The dispatcher: every enabled shop's schedules, read in its own time zone, queued once per
scheduled time — with two dispatchers at once, and after a pause only the latest missed time."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from possync.config.settings import Settings
from possync.db.connection import Database
from possync.jobs.dispatch import Dispatch, dispatch_due, latest_due
from possync.jobs.queue import JobQueue
from possync.simulator import RunningSimulator, SimulatorConfig, running_simulator
from tests.conftest import make_settings
from tests.support.shops import register_shop

KEY = Fernet.generate_key().decode()


@pytest.fixture(scope="module")
def stores() -> Iterator[RunningSimulator]:
    with running_simulator(SimulatorConfig(seed=21, scale="small", stores=3)) as running:
        yield running


@pytest.fixture
def shops_settings(db: Database, tmp_path: Path, stores: RunningSimulator) -> Settings:
    """The environment's shop is store 1 (Lightspeed only), in UTC; `north` (Berlin) and
    `south` (paused) are registered."""
    settings = make_settings(
        db,
        tmp_path,
        lightspeed_url=stores.lightspeed_url,
        lightspeed_token=stores.token,
        encryption_key=KEY,
    )
    register_shop(db, settings, "north", stores, 2, timezone="Europe/Berlin")
    register_shop(db, settings, "south", stores, 3, paused=True)
    return settings


@pytest.fixture
def queue(shops_settings: Settings, db: Database) -> Iterator[JobQueue]:
    job_queue = JobQueue(shops_settings, db)
    yield job_queue
    job_queue.close()


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def summary(dispatches: list[Dispatch]) -> list[tuple[str, str, str]]:
    return sorted((d.shop, d.schedule, d.due_at.astimezone(UTC).isoformat()) for d in dispatches)


def queued_jobs(db: Database) -> list[tuple[str, str, str, dict[str, object]]]:
    with db.connect() as conn:
        rows = conn.execute(
            """SELECT task_name, queue_name, lock, args FROM procrastinate_jobs
               WHERE task_name IN ('possync.sync', 'possync.reconcile') ORDER BY id"""
        ).fetchall()
    return [(r[0], r[1], r[2], r[3]) for r in rows]


def test_latest_due_reads_cron_in_the_shop_zone_across_dst() -> None:
    # 02:00 in Berlin: 00:00 UTC in summer (CEST), 01:00 UTC in winter (CET).
    assert latest_due("0 2 * * *", "Europe/Berlin", at("2026-06-02T00:00:30+00:00")) == at(
        "2026-06-02T00:00:00+00:00"
    )
    assert latest_due("0 2 * * *", "Europe/Berlin", at("2026-01-16T00:59:59+00:00")) == at(
        "2026-01-15T01:00:00+00:00"
    )
    # A time exactly on the schedule is due at that second.
    assert latest_due("0 * * * *", "UTC", at("2026-06-02T14:00:00+00:00")) == at(
        "2026-06-02T14:00:00+00:00"
    )


def test_each_enabled_shop_is_queued_once_per_scheduled_time(
    db: Database, shops_settings: Settings, queue: JobQueue
) -> None:
    first = dispatch_due(shops_settings, db, queue, at("2026-06-01T23:30:00+00:00"))
    # Every enabled shop's hourly sync; the paused shop nothing. A deep schedule seen for
    # the first time is only recorded (a new shop imports first; it does not reconcile).
    assert summary(first) == [
        ("default", "deep", "2026-06-01T02:00:00+00:00"),
        ("default", "incremental", "2026-06-01T23:00:00+00:00"),
        ("north", "deep", "2026-06-01T00:00:00+00:00"),
        ("north", "incremental", "2026-06-01T23:00:00+00:00"),
    ]
    assert [d.first_seen for d in sorted(first, key=lambda d: (d.shop, d.schedule))] == [
        True,
        False,
        True,
        False,
    ]
    jobs = queued_jobs(db)
    # Never synced: imports. A registered shop's jobs run one at a time (its shop's lock);
    # the environment's shop's, one per source.
    assert sorted((task, q, lock, args.get("shop", "")) for task, q, lock, args in jobs) == [
        ("possync.sync", "possync-import", "possync:shop:north", "north"),
        ("possync.sync", "possync-import", "possync:shop:north", "north"),
        ("possync.sync", "possync-import", "possync:source:lightspeed", ""),
    ]
    assert all(args["trigger"] == "schedule" for _, _, _, args in jobs)

    # The same minute again, and a minute later: nothing new is due.
    assert dispatch_due(shops_settings, db, queue, at("2026-06-01T23:30:00+00:00")) == []
    assert dispatch_due(shops_settings, db, queue, at("2026-06-01T23:31:00+00:00")) == []

    # 02:00 in Berlin is 00:00 UTC in June: north's deep pass and everyone's hourly sync.
    later = dispatch_due(shops_settings, db, queue, at("2026-06-02T00:00:05+00:00"))
    assert summary(later) == [
        ("default", "incremental", "2026-06-02T00:00:00+00:00"),
        ("north", "deep", "2026-06-02T00:00:00+00:00"),
        ("north", "incremental", "2026-06-02T00:00:00+00:00"),
    ]
    deep = next(d for d in later if d.schedule == "deep")
    assert [(s.source, s.entity) for s in deep.syncs] == [
        ("square", "categories"),
        ("square", "catalog_items"),
        ("square", "catalog_item_variations"),
    ]
    assert deep.reconciles == []  # not imported yet: nothing to reconcile against


def test_a_pause_queues_the_latest_missed_time_once(
    db: Database, shops_settings: Settings, queue: JobQueue
) -> None:
    dispatch_due(shops_settings, db, queue, at("2026-06-01T10:00:10+00:00"))
    # No worker ran for five hours (and a day boundary for the deep pass of the
    # environment's shop, 02:00 UTC): one dispatch per schedule, the latest time.
    back = dispatch_due(shops_settings, db, queue, at("2026-06-02T03:10:00+00:00"))
    assert summary(back) == [
        ("default", "deep", "2026-06-02T02:00:00+00:00"),
        ("default", "incremental", "2026-06-02T03:00:00+00:00"),
        ("north", "deep", "2026-06-02T00:00:00+00:00"),
        ("north", "incremental", "2026-06-02T03:00:00+00:00"),
    ]
    assert not any(d.first_seen for d in back)
    with db.connect() as conn:
        rows = conn.execute(
            "SELECT shop_name, schedule, due_at FROM possync_dispatches ORDER BY 1, 2"
        ).fetchall()
    assert [(r[0], r[1], r[2].astimezone(UTC).isoformat()) for r in rows] == summary(back)


def test_two_dispatchers_at_once_queue_each_time_once(
    db: Database, shops_settings: Settings
) -> None:
    results: list[list[Dispatch]] = []
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def dispatcher() -> None:
        job_queue = JobQueue(shops_settings, db)
        try:
            start.wait()
            results.append(
                dispatch_due(shops_settings, db, job_queue, at("2026-06-01T12:00:01+00:00"))
            )
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            job_queue.close()

    threads = [threading.Thread(target=dispatcher) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    everything = [d for result in results for d in result]
    assert summary(everything) == [
        ("default", "deep", "2026-06-01T02:00:00+00:00"),
        ("default", "incremental", "2026-06-01T12:00:00+00:00"),
        ("north", "deep", "2026-06-01T00:00:00+00:00"),
        ("north", "incremental", "2026-06-01T12:00:00+00:00"),
    ]
    assert len(queued_jobs(db)) == 3  # lightspeed of the environment's shop, north's two


def test_a_shop_schedule_of_its_own_and_an_empty_one(
    db: Database, tmp_path: Path, stores: RunningSimulator
) -> None:
    settings = make_settings(db, tmp_path, encryption_key=KEY, schedule_deep="")
    register_shop(db, settings, "east", stores, 2, schedule_incremental="*/15 * * * *")
    register_shop(db, settings, "west", stores, 3, schedule_incremental="")
    job_queue = JobQueue(settings, db)
    try:
        done = dispatch_due(settings, db, job_queue, at("2026-06-01T12:20:00+00:00"))
    finally:
        job_queue.close()
    # No source in the environment: no `default`; west has no schedule left at all.
    assert summary(done) == [("east", "incremental", "2026-06-01T12:15:00+00:00")]


def test_a_worker_without_the_environments_shop_never_makes_it_new_again(
    db: Database, tmp_path: Path, shops_settings: Settings, queue: JobQueue
) -> None:
    dispatch_due(shops_settings, db, queue, at("2026-06-01T23:30:00+00:00"))
    # Another worker whose environment configures no source runs the next dispatch.
    bare = make_settings(db, tmp_path, encryption_key=KEY)
    dispatch_due(bare, db, queue, at("2026-06-01T23:31:00+00:00"))
    with db.connect() as conn:
        kept = conn.execute(
            "SELECT schedule FROM possync_dispatches WHERE shop_name = 'default' ORDER BY 1"
        ).fetchall()
    assert kept == [("deep",), ("incremental",)]
    # Back on a configured worker, nothing is due again within the same hour.
    assert dispatch_due(shops_settings, db, queue, at("2026-06-01T23:32:00+00:00")) == []
