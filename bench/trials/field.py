"""Field scenario: PostgreSQL restarted again and again under a running `possync serve`, with
sync jobs queued before each restart (caught by it, waiting or mid-run) and after it. Every
job must run to success, serve must stay up and healthy, and the synced entities must end
equal to the simulator's truth: nothing lost, nothing doubled."""

from __future__ import annotations

import random
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import psycopg
from psycopg import sql

from bench.trials.crash import WALK_LATENCY_MS
from bench.trials.harness import ScenarioResult, SourceKit, observe
from bench.trials.measure import Tally
from bench.trials.pgserver import RESTART_MODES, RestartableServer
from bench.trials.serving import serving
from possync.db.connection import Database
from possync.jobs.queue import JobQueue
from possync.simulator import FaultConfig, RunningSimulator
from possync.sources.registry import tables_for

# The first is long enough (small pages, latency) to be mid-run when a restart lands; it is
# queued before each restart, the others in turn after it.
ENTITIES = {
    "lightspeed": ("products", "customers", "brands", "suppliers", "users", "taxes"),
    "square": ("catalog_items", "customers", "locations", "categories"),
}
FIRST_JOB_SECONDS = 60.0  # a job queued after a restart runs within this
ALL_JOBS_SECONDS = 120.0  # jobs caught mid-run by a restart are requeued and finish by then
PASSWORD = "field-restarts"


def serve_restart_trials(
    kit: SourceKit,
    server: RestartableServer,
    sim: RunningSimulator,
    work_dir: Path,
    *,
    restarts: int,
    seed: int = 1,
) -> ScenarioResult:
    """`restarts` PostgreSQL restarts (fast or immediate, at random) under one `serve`."""
    result = ScenarioResult("database restarted under serve", kit.name)
    started = time.monotonic()
    rng = random.Random(seed)
    db = server.new_database()
    work_dir.mkdir(parents=True, exist_ok=True)
    env = kit.environment(db, work_dir / "data", sim)
    env.update(
        POSSYNC_DASHBOARD_PASSWORD=PASSWORD,
        POSSYNC_SCHEDULE_INCREMENTAL="",
        POSSYNC_SCHEDULE_DEEP="",
        POSSYNC_JOB_RETRY_BASE_SECONDS="1",
        POSSYNC_JOB_MAX_ATTEMPTS="20",
    )
    settings = kit.settings(db, work_dir, sim)
    queue = JobQueue(settings, db)
    entities = ENTITIES[kit.name]
    jobs: list[int] = []
    synced: set[str] = set()
    caught: Counter[str] = Counter()  # the state of the job queued before each restart
    sim.simulator.set_faults(FaultConfig(latency_ms=WALK_LATENCY_MS))  # runs last a while
    try:
        with serving(env, work_dir) as served:
            for trial in range(restarts):
                before = queue.enqueue_sync(kit.name, entities[0])
                time.sleep(rng.uniform(0.05, 0.6))  # the restart lands while it waits or runs
                if before.job_id is not None:
                    caught[_wait(db, [before.job_id], 0)[0]] += 1
                mode = rng.choice(RESTART_MODES)
                server.restart(mode)
                result.faults[f"restart -m {mode}"] += 1
                after_entity = entities[1 + trial % (len(entities) - 1)]
                synced.update((entities[0], after_entity))
                after = queue.enqueue_sync(kit.name, after_entity)
                jobs += [job for job in (before.job_id, after.job_id) if job is not None]
                result.trials += 1
                if after.job_id is not None:
                    status = _wait(db, [after.job_id], FIRST_JOB_SECONDS)
                    if status != ["succeeded"]:
                        result.problems.append(
                            f"trial {trial}: a job queued after the restart is {status[0]} "
                            f"after {FIRST_JOB_SECONDS:.0f} s"
                        )
                        break  # the worker is gone: more restarts would only take time
            statuses = _wait(db, jobs, ALL_JOBS_SECONDS)
            stuck = [
                f"{job} {s}" for job, s in zip(jobs, statuses, strict=True) if s != "succeeded"
            ]
            if stuck:
                result.problems.append(f"jobs that did not run to success: {', '.join(stuck)}")
            if served.process.poll() is not None:
                result.problems.append("possync serve exited")
            health = httpx.get(served.url + "healthz", timeout=10)
            if health.status_code != 200:
                result.problems.append(f"/healthz after the restarts: {health.text.strip()}")
            if served.stop() != 0:
                result.problems.append("possync serve did not stop cleanly")
            output = "".join(served.output)
            if "Traceback" in output and "starting again in" not in output:
                result.problems.append("a traceback without a restart")
    finally:
        queue.close()
        sim.simulator.set_faults(FaultConfig())
    result.notes.append(
        "the job queued before each restart was, when it hit: "
        + ", ".join(f"{state} {count}" for state, count in sorted(caught.items()))
    )
    with observe(db) as conn:
        for entity in sorted(synced):
            result.tally.add(_compare(conn, kit, sim, entity))
    result.seconds = time.monotonic() - started
    return result


def _wait(db: Database, job_ids: list[int], timeout: float) -> list[str]:
    """The jobs' statuses once all are final, or when `timeout` runs out."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with observe(db) as conn:
                rows = dict(
                    conn.execute(
                        "SELECT id, status::text FROM procrastinate_jobs WHERE id = ANY(%s)",
                        (job_ids,),
                    ).fetchall()
                )
        except Exception:  # the server is still coming back
            rows = {}
        statuses = [rows.get(job, "unknown") for job in job_ids]
        final = all(s in ("succeeded", "failed", "cancelled", "aborted") for s in statuses)
        if final or time.monotonic() > deadline:
            return statuses
        time.sleep(0.2)


def _compare(
    conn: psycopg.Connection[Any], kit: SourceKit, sim: RunningSimulator, entity: str
) -> Tally:
    """The entity's stored rows against the truth: every live record once."""
    tally = Tally()
    alive = set(kit.truth(sim)["entities"][entity]["alive"])
    table = sql.Identifier(tables_for(kit.name)[entity].table)
    rows = conn.execute(
        sql.SQL("SELECT id::text, count(*) FROM {} WHERE deleted_at IS NULL GROUP BY 1").format(
            table
        )
    ).fetchall()
    stored = {row_id: count for row_id, count in rows}
    tally.checked += len(alive)
    tally.note("lost", len(alive - stored.keys()), f"{entity} records not stored")
    tally.note("duplicated", sum(c - 1 for c in stored.values()), f"{entity} ids stored twice")
    return tally
