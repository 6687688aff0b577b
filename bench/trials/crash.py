"""Crashes: `possync sync` killed with SIGKILL at random moments, and PostgreSQL restarted
under a running sync. Each trial resumes from what the last one committed; a final clean run
must leave the database equal to the simulator's truth."""

from __future__ import annotations

import random
import time
from pathlib import Path

from bench.trials.harness import (
    ScenarioResult,
    SourceKit,
    SyncProcess,
    committed_pages,
    last_log_id,
    observe,
    one_line_error,
    run_to_completion,
    wait_until_no_sync_connected,
)
from bench.trials.measure import check_children, measure
from bench.trials.pgserver import RESTART_MODES, RestartableServer
from possync.db.connection import Database
from possync.simulator import FaultConfig, RunningSimulator

# A little latency per request spreads a walk over seconds, so kills land in every phase.
WALK_LATENCY_MS = 8.0
MAX_KILL_PAGES = 40
# Time passing during a run stands for a run that long: ten hours is ten times the lookback
# of Square payments, so a location read early sees changes well older than the newest one.
MID_RUN_TRAVEL_MINUTES = 600


def kill_trials(
    kit: SourceKit,
    db: Database,
    sim: RunningSimulator,
    work_dir: Path,
    *,
    trials: int,
    seed: int = 1,
) -> ScenarioResult:
    """SIGKILL `trials` syncs at random moments (a random delay, or after a random number of
    committed pages, then a few ms more), with time travel between and during some of them."""
    result = ScenarioResult("kill -9 at random moments, then resume", kit.name)
    started = time.monotonic()
    rng = random.Random(seed)
    env = kit.environment(db, work_dir / "data", sim)
    sim.simulator.set_faults(FaultConfig(latency_ms=WALK_LATENCY_MS))
    caught_up = False
    for trial in range(trials):
        if trial and rng.random() < 0.4:
            sim.simulator.advance(rng.randint(60, 2 * 24 * 60))
            result.faults["time travel"] += 1
        # Once a run finished before its kill, a full refresh gives the next kill a long walk.
        args = ("--full",) if caught_up else ()
        wait_until_no_sync_connected(db)
        mark = last_log_id(db)
        process = SyncProcess(env, kit.name, work_dir / f"kill-{trial}", *args)
        try:
            if rng.random() < 0.3:
                time.sleep(rng.uniform(0.05, 2.0))  # any moment: start-up, lock, first pages
            else:
                target = rng.randint(1, MAX_KILL_PAGES)
                if rng.random() < 0.3:  # new data arrives while the walk goes on
                    process.wait_for_pages(db, kit.name, mark, target // 2)
                    sim.simulator.advance(rng.randint(5, MID_RUN_TRAVEL_MINUTES))
                    result.faults["time travel"] += 1
                process.wait_for_pages(db, kit.name, mark, target)
                time.sleep(rng.uniform(0.0, 0.03))  # mid-page, not only just after a commit
        finally:
            landed = process.kill()
        result.trials += 1
        caught_up = not landed
        with observe(db) as conn:
            if landed:
                walked = committed_pages(conn, kit.name, mark) > 0
                result.faults["SIGKILL mid-walk" if walked else "SIGKILL before a commit"] += 1
            result.tally.add(check_children(conn, kit.name))
    sim.simulator.set_faults(FaultConfig())
    _final_run(result, kit, db, sim, env, work_dir)
    result.seconds = time.monotonic() - started
    return result


def restart_trials(
    kit: SourceKit,
    server: RestartableServer,
    sim: RunningSimulator,
    work_dir: Path,
    *,
    trials: int,
    seed: int = 1,
) -> ScenarioResult:
    """Restart PostgreSQL (fast or immediate) under a running sync: the run must stop with a
    one-line error, and the next one must resume."""
    result = ScenarioResult("database restarted mid-run", kit.name)
    started = time.monotonic()
    rng = random.Random(seed)
    db = server.new_database()
    env = kit.environment(db, work_dir / "data", sim)
    sim.simulator.set_faults(FaultConfig(latency_ms=WALK_LATENCY_MS))
    for trial in range(trials):
        if trial and rng.random() < 0.5:
            sim.simulator.advance(rng.randint(60, 24 * 60))
        wait_until_no_sync_connected(db)
        mark = last_log_id(db)
        process = SyncProcess(env, kit.name, work_dir / f"restart-{trial}")
        try:
            process.wait_for_pages(db, kit.name, mark, rng.randint(1, MAX_KILL_PAGES))
            was_running = process.running
            mode = rng.choice(RESTART_MODES)
            server.restart(mode)
            result.faults[f"restart -m {mode}"] += 1
            code = process.wait(120)
        finally:
            if process.running:
                process.kill()
        result.trials += 1
        if code != 0:
            problem = one_line_error(process)
            if problem is not None:
                result.problems.append(f"trial {trial}: not a one-line error: {problem}")
            elif db.display not in process.stderr:  # it must name the server to check
                result.problems.append(f"trial {trial}: error names another server")
        elif was_running and "completed" not in process.stdout:
            result.problems.append(f"trial {trial}: exit 0 without a summary")
        with observe(db) as conn:
            result.tally.add(check_children(conn, kit.name))
    sim.simulator.set_faults(FaultConfig())
    _final_run(result, kit, db, sim, env, work_dir)
    result.seconds = time.monotonic() - started
    return result


def _final_run(
    result: ScenarioResult,
    kit: SourceKit,
    db: Database,
    sim: RunningSimulator,
    env: dict[str, str],
    work_dir: Path,
) -> None:
    """The one uninterrupted run that must end equal to the truth (for Square too: a resumed
    window is followed by a new one in the same run)."""
    wait_until_no_sync_connected(db)
    final = run_to_completion(env, kit.name, work_dir / "final")
    if final.process.returncode != 0:
        result.problems.append(f"final run failed: {final.stderr.strip()[-300:]}")
    with observe(db) as conn:
        result.tally.add(measure(conn, kit.name, kit.truth(sim)))
