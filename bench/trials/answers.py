"""Field scenarios of the answers a broken server gives (issue 12): every malformed HTTP 200
on every entity deletes and moves nothing, and a server that drips its body ends within the
request deadline. Both count what they injected and what the database got wrong."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from psycopg import sql

from bench.trials.dripping import dripping_server
from bench.trials.harness import DatabaseFactory, ScenarioResult, SourceKit, observe
from bench.trials.measure import measure
from bench.trials.soak import sync_in_process
from possync.config.settings import Settings, load_settings
from possync.db.connection import Database
from possync.engine.run import SyncReport, SyncRequest, run_sync
from possync.simulator import FaultConfig, RunningSimulator, running_simulator
from possync.simulator.faults import MALFORMED_BODIES
from possync.sources.base import Source
from possync.sources.http import RetryPolicy
from possync.sources.registry import open_source, tables_for

SHAPES = tuple(range(1, len(MALFORMED_BODIES) + 1))
EMPTY_OBJECT = 1  # `{}`: a well-formed empty page on Square, which omits empty arrays
# A refusal names the endpoint's page or the delete guard; nothing else may stop these runs.
REFUSALS = ("not a well-formed page (", "POSSYNC_MAX_DELETE_RATIO")
DRIP_TIMEOUT, DRIP_DEADLINE, DRIP_INTERVAL = 1.0, 1.5, 0.3
DRIP_ATTEMPTS = 2
# Two attempts, each past its deadline by at most a drip interval, plus the run itself.
DRIP_BOUND_SECONDS = DRIP_ATTEMPTS * (DRIP_DEADLINE + DRIP_INTERVAL) + 2.0


def malformed_answer_trials(
    kit: SourceKit,
    new_database: DatabaseFactory,
    work_dir: Path,
    *,
    trials: int,
    seed: int = 1,
    incremental_too: bool = True,
) -> ScenarioResult:
    """Each trial: a fresh store, an import, then every entity synced against every malformed
    body (`--full`, and incremental unless `incremental_too` is off), each run alone. No row
    may change (live and deleted counts, the cursor of an incremental run); every run must
    fail with a refusal, except a Square `{}`, which is an empty page: it deletes nothing
    and, like any run that finds nothing new, may move a window's watermark to Square's
    clock. Then the faults stop and an incremental run must leave the store equal to the
    truth."""
    result = ScenarioResult("malformed answers", kit.name)
    started = time.monotonic()
    for trial in range(trials):
        with (
            running_simulator(kit.simulator_config(seed=seed * 1000 + 700 + trial)) as sim,
            new_database() as db,
        ):
            modes = (True, False) if incremental_too else (True,)
            _one_trial(kit, db, sim, work_dir, trial, modes, result)
    result.seconds = time.monotonic() - started
    return result


def _one_trial(
    kit: SourceKit,
    db: Database,
    sim: RunningSimulator,
    work_dir: Path,
    trial: int,
    modes: tuple[bool, ...],
    result: ScenarioResult,
) -> None:
    imported = sync_in_process(kit, db, sim, work_dir)
    if not imported.ok:
        result.problems.append(f"trial {trial}: the import failed: {_errors(imported)}")
        return
    for entity in tables_for(kit.name):
        for shape in SHAPES:
            for full in modes:
                sim.simulator.set_faults(FaultConfig(malformed_rate=1.0, malformed_shape=shape))
                before, cursor = _store(db, kit.name), _cursor(db, kit.name, entity)
                request = SyncRequest(kit.name, (entity,), full=full)
                report = sync_in_process(kit, db, sim, work_dir, request)
                result.faults[f"body {shape}"] += 1
                where = f"trial {trial}, {entity}, body {shape}, {'full' if full else 'incr'}"
                _judge(kit, report, shape, where, result)
                if _store(db, kit.name) != before:
                    result.problems.append(f"{where}: stored rows changed")
                # Square's `{}` is a complete, empty answer: like any run that finds nothing
                # new, it may move the window's watermark up to Square's clock.
                empty_page = kit.name == "square" and shape == EMPTY_OBJECT
                if not full and not empty_page and _cursor(db, kit.name, entity) != cursor:
                    result.problems.append(f"{where}: the cursor moved")
    sim.simulator.set_faults(FaultConfig())
    recovered = sync_in_process(kit, db, sim, work_dir)
    if not recovered.ok:
        result.problems.append(f"trial {trial}: the run after the faults: {_errors(recovered)}")
    result.trials += 1
    with observe(db) as conn:
        result.tally.add(measure(conn, kit.name, kit.truth(sim)))


def _judge(
    kit: SourceKit, report: SyncReport, shape: int, where: str, result: ScenarioResult
) -> None:
    for entity_result in report.results:
        error = entity_result.error or ""
        if entity_result.status == "failed":
            if "\n" in error or not any(refusal in error for refusal in REFUSALS):
                result.problems.append(f"{where}: failed otherwise: {error[:200]}")
        elif not (kit.name == "square" and shape == EMPTY_OBJECT):
            result.problems.append(f"{where}: {entity_result.status}, not refused")


def _store(db: Database, source: str) -> dict[str, Any]:
    """Live and deleted rows of every table of the source."""
    counts: dict[str, Any] = {}
    with observe(db) as conn:
        for spec in tables_for(source).values():
            for table in (spec.table, *(child.table.table for child in spec.children)):
                counts[table] = conn.execute(
                    sql.SQL(
                        "SELECT count(*) FILTER (WHERE deleted_at IS NULL), "
                        "count(*) FILTER (WHERE deleted_at IS NOT NULL) FROM {}"
                    ).format(sql.Identifier(table))
                ).fetchone()
    return counts


def _cursor(db: Database, source: str, entity: str) -> Any:
    with observe(db) as conn:
        return conn.execute(
            "SELECT last_version, watermark, run_cursor FROM sync_state "
            "WHERE source = %s AND entity_type = %s",
            (source, entity),
        ).fetchone()


def dripping_trials(
    kit: SourceKit, new_database: DatabaseFactory, work_dir: Path, *, trials: int
) -> ScenarioResult:
    """Each trial: a sync of the source's first entity against a server that sends headers,
    then a byte every DRIP_INTERVAL. It must fail with the deadline's one line, its state
    failed, within DRIP_BOUND_SECONDS."""
    result = ScenarioResult("dripping server", kit.name, records=False)
    started = time.monotonic()
    entity = next(iter(tables_for(kit.name)))
    for trial in range(trials):
        with dripping_server(DRIP_INTERVAL, give_up_after=30.0) as server, new_database() as db:
            settings = _drip_settings(kit, db, work_dir, server.url)
            source = _open(kit, settings)
            began = time.monotonic()
            try:
                report = run_sync(settings, db, SyncRequest(kit.name, (entity,)), source=source)
            finally:
                source.close()
            took = time.monotonic() - began
            result.faults["dripping request"] += server.connections
            result.trials += 1
            (outcome,) = report.results
            if took > DRIP_BOUND_SECONDS:
                result.problems.append(f"trial {trial}: took {took:.1f}s")
            refused = "no complete answer within" in (outcome.error or "")
            if outcome.status != "failed" or not refused:
                result.problems.append(f"trial {trial}: {outcome.status}: {outcome.error}")
            with observe(db) as conn:
                state = conn.execute(
                    "SELECT status FROM sync_state WHERE source = %s AND entity_type = %s",
                    (kit.name, entity),
                ).fetchone()
            if state != ("failed",):
                result.problems.append(f"trial {trial}: sync_state is {state}")
    result.seconds = time.monotonic() - started
    return result


def _drip_settings(kit: SourceKit, db: Database, work_dir: Path, url: str) -> Settings:
    where = {"lightspeed": {"lightspeed_url": url, "lightspeed_token": "drip"}}.get(
        kit.name, {"square_url": url, "square_token": "drip"}
    )
    return load_settings(
        database_url=db.url,
        data_dir=work_dir,
        _env_file=None,
        http_timeout_seconds=DRIP_TIMEOUT,
        http_deadline_seconds=DRIP_DEADLINE,
        writer_process=False,
        **where,
    )


def _open(kit: SourceKit, settings: Settings) -> Source:
    retry = RetryPolicy(max_attempts=DRIP_ATTEMPTS, base_delay=0.01, max_delay=0.02)
    return open_source(settings, kit.name, retry=retry)


def _errors(report: SyncReport) -> str:
    return "; ".join(f"{r.entity}: {r.error}" for r in report.failed)[:300]
