"""In-process scenarios: a fault soak over full imports, malformed records, and simultaneous
triggers of one entity. Each counts what it injected and what the database got wrong."""

from __future__ import annotations

import random
import threading
import time
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

from bench.trials.harness import DatabaseFactory, ScenarioResult, SourceKit, observe
from bench.trials.measure import measure
from possync.db.connection import Database
from possync.engine.run import (
    EntityProgress,
    EntityResult,
    SyncReport,
    SyncRequest,
    run_sync,
)
from possync.errors import SyncLockedError
from possync.simulator import FaultConfig, RunningSimulator, running_simulator
from possync.sources.registry import entities_for

# Per request: 5xx, connection reset, truncated body, short page; plus latency, a burst of
# 429s re-armed every few pages, and (Square) expired cursors.
SOAK_RATES = {
    "error_rate": 0.08,
    "reset_rate": 0.05,
    "truncate_rate": 0.05,
    "short_page_rate": 0.1,
    "latency_ms": 2.0,
}
RATE_LIMIT_BURST = 3
REARM_EVERY_PAGES = 12
READ_TIMEOUT_SECONDS = 3.0
CORRUPTIBLE = {
    "lightspeed": ("sales", "products", "customers", "inventory"),
    "square": ("orders", "payments", "customers"),
}


def sync_in_process(
    kit: SourceKit,
    db: Database,
    sim: RunningSimulator,
    data_dir: Path,
    request: SyncRequest | None = None,
    *,
    on_progress: Any = None,
    page_size: int | None = None,
) -> SyncReport:
    """One run through `run_sync`, with fast retries and a short read timeout (a truncated
    body whose connection stays open is only noticed when the timeout fires)."""
    settings = kit.settings(
        db, data_dir, sim, page_size=page_size, http_timeout_seconds=READ_TIMEOUT_SECONDS
    )
    source = kit.open_source(settings)
    try:
        return run_sync(
            settings, db, request or SyncRequest(kit.name), source=source, on_progress=on_progress
        )
    finally:
        source.close()


def fault_soak(
    kit: SourceKit, new_database: DatabaseFactory, work_dir: Path, *, trials: int, seed: int = 1
) -> ScenarioResult:
    """Each trial: a fresh store and database, a full import and then an incremental run after
    a day of time travel, both under every transport fault at once."""
    result = ScenarioResult("fault soak over a full import", kit.name)
    started = time.monotonic()
    for trial in range(trials):
        trial_seed = seed * 1000 + trial
        with running_simulator(kit.simulator_config(seed=trial_seed)) as sim, new_database() as db:
            faults = FaultConfig(
                **SOAK_RATES,
                rate_limit_burst=RATE_LIMIT_BURST,
                expired_cursor_rate=0.1 if kit.name == "square" else 0.0,
                seed=trial_seed,
            )
            sim.simulator.set_faults(faults)
            rearm = _Rearm(sim, faults)
            for step in range(2):
                if step:
                    sim.simulator.advance(24 * 60)
                report = sync_in_process(
                    kit, db, sim, work_dir, on_progress=rearm, page_size=kit.soak_page_size
                )
                if not report.ok:
                    result.problems.append(f"trial {trial}: {_failures(report)}")
            sim.simulator.set_faults(FaultConfig())
            result.faults.update({k: v for k, v in sim.simulator.faults.injected.items() if v})
            result.trials += 1
            with observe(db) as conn:
                result.tally.add(measure(conn, kit.name, kit.truth(sim)))
    result.notes.append(f"{SOAK_RATES['latency_ms']:g} ms of latency on every request")
    result.seconds = time.monotonic() - started
    return result


class _Rearm:
    """Re-arms the 429 burst every few committed pages (a burst only covers the next N
    requests after the faults are set)."""

    def __init__(self, sim: RunningSimulator, faults: FaultConfig) -> None:
        self.sim = sim
        self.faults = faults
        self.pages = 0

    def __call__(self, progress: EntityProgress) -> None:
        if progress.done:
            return
        self.pages += 1
        if self.pages % REARM_EVERY_PAGES == 0:
            seed = self.faults.seed + self.pages
            self.sim.simulator.set_faults(replace(self.faults, seed=seed))


def malformed_trials(
    kit: SourceKit, new_database: DatabaseFactory, work_dir: Path, *, trials: int, seed: int = 1
) -> ScenarioResult:
    """Each trial: a fresh store with a few malformed records of every kind the simulator can
    break, an import, a day of time travel and an incremental run. Every malformed record must
    be in quarantine with a reason, every other record in its table."""
    result = ScenarioResult("malformed records", kit.name)
    started = time.monotonic()
    rng = random.Random(seed)
    for trial in range(trials):
        trial_seed = seed * 1000 + 500 + trial
        with running_simulator(kit.simulator_config(seed=trial_seed)) as sim, new_database() as db:
            injected = 0
            for entity in CORRUPTIBLE[kit.name]:
                ids = sim.simulator.corrupt(kit.name, entity, rng.randint(2, 5))
                result.faults[f"malformed {entity}"] += len(ids)
                injected += len(ids)
            quarantined = 0
            for step in range(2):
                if step:
                    sim.simulator.advance(24 * 60)
                report = sync_in_process(kit, db, sim, work_dir)
                quarantined += sum(r.quarantined for r in report.results)
                if not report.ok:
                    result.problems.append(f"trial {trial}: {_failures(report)}")
            if quarantined < injected:
                result.problems.append(f"trial {trial}: {quarantined} of {injected} quarantined")
            result.trials += 1
            with observe(db) as conn:
                result.tally.add(measure(conn, kit.name, kit.truth(sim)))
                unexplained = conn.execute(
                    "SELECT count(*) FROM sync_quarantine WHERE coalesce(reason, '') = ''"
                ).fetchone()
            if unexplained != (0,):
                result.problems.append(f"trial {trial}: quarantined without a reason")
    result.seconds = time.monotonic() - started
    return result


def simultaneous_triggers(
    kit: SourceKit,
    db: Database,
    sim: RunningSimulator,
    work_dir: Path,
    *,
    trials: int,
    triggers: int = 4,
) -> ScenarioResult:
    """Each trial: `triggers` threads start a full refresh of the big entity at one instant
    (exactly one runs, the others are skipped), then a sync of everything. sync_log must
    never show two runs of an entity overlapping; the data must equal the truth."""
    result = ScenarioResult("simultaneous triggers of one entity", kit.name)
    started = time.monotonic()
    sim.simulator.set_faults(FaultConfig(latency_ms=15))
    for trial in range(trials):
        if trial:
            sim.simulator.advance(24 * 60)
        # A full walk of the big entity: seconds long, so every trigger lands while it runs.
        one_entity = SyncRequest(kit.name, entities=(kit.deep_entity,), full=True)
        reports = _at_once(kit, db, sim, work_dir, one_entity, triggers)
        statuses = sorted(
            r.status for report in reports for r in report.results if r.entity == kit.deep_entity
        )
        expected = ["completed"] + ["skipped"] * (triggers - 1)
        if statuses != expected:
            result.problems.append(f"trial {trial}: {kit.deep_entity} runs {statuses}")
        everything = _at_once(kit, db, sim, work_dir, SyncRequest(kit.name), triggers)
        for report in everything:
            if not report.ok:
                result.problems.append(f"trial {trial}: {_failures(report)}")
        result.faults["simultaneous triggers"] += 2 * triggers
        result.trials += 1
    sim.simulator.set_faults(FaultConfig())
    final = sync_in_process(kit, db, sim, work_dir)  # whatever a skipped trigger left undone
    if not final.ok:
        result.problems.append(f"final run: {_failures(final)}")
    with observe(db) as conn:
        overlapping = conn.execute(
            """SELECT count(*) FROM sync_log a JOIN sync_log b
                 ON a.source = b.source AND a.entity_type = b.entity_type AND a.id < b.id
               WHERE tstzrange(a."timestamp", coalesce(a.finished_at, 'infinity'))
                  && tstzrange(b."timestamp", coalesce(b.finished_at, 'infinity'))"""
        ).fetchone()
        if overlapping != (0,):
            result.problems.append(f"sync_log shows {overlapping} overlapping runs")
        result.tally.add(measure(conn, kit.name, kit.truth(sim)))
    result.seconds = time.monotonic() - started
    return result


def _at_once(
    kit: SourceKit,
    db: Database,
    sim: RunningSimulator,
    work_dir: Path,
    request: SyncRequest,
    triggers: int,
) -> list[SyncReport]:
    barrier = threading.Barrier(triggers)
    reports: list[SyncReport] = []
    errors: list[BaseException] = []

    def trigger() -> None:
        settings = kit.settings(db, work_dir, sim)
        source = kit.open_source(settings)
        try:
            barrier.wait()
            reports.append(run_sync(settings, db, request, source=source))
        except SyncLockedError:  # every requested entity was locked: all skipped
            skipped = [
                EntityResult(kit.name, entity, uuid.uuid4(), "skipped", "incremental_sync")
                for entity in request.entities or entities_for(kit.name)
            ]
            reports.append(SyncReport(kit.name, False, skipped))
        except BaseException as exc:
            errors.append(exc)
        finally:
            source.close()

    threads = [threading.Thread(target=trigger) for _ in range(triggers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    if errors:
        raise errors[0]
    return reports


def _failures(report: SyncReport) -> str:
    return "; ".join(f"{r.entity}: {r.error}" for r in report.failed)
