"""Reliability suite, full form: every scenario of bench/trials with many trials, one
table of trials run, faults injected, records lost and duplicated.

    .venv/bin/python -m bench.reliability --trials 50

`--trials N` is the number of kill -9 trials per source; the other scenarios scale from it
(bench.trials.harness.TrialCounts). Writes the table to stdout and to
bench/results/reliability.md; exits 1 when any scenario lost, duplicated or leaked anything.
The bounded form is `pytest -m reliability` (part of the normal test run).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import psycopg
from psycopg import sql

from bench.common import BENCH_DIR, bench_settings, machine_line, server
from bench.trials.answers import dripping_trials, malformed_answer_trials
from bench.trials.bad_values import bad_value_trials
from bench.trials.bad_values import trials_for as bad_trials_for
from bench.trials.crash import kill_trials, restart_trials
from bench.trials.field import serve_restart_trials
from bench.trials.harness import (
    KITS,
    DatabaseFactory,
    ScenarioResult,
    SourceKit,
    TrialCounts,
    server_log,
)
from bench.trials.pgserver import RestartableServer
from bench.trials.secrets_scan import secret_scan
from bench.trials.soak import fault_soak, malformed_trials, simultaneous_triggers
from possync.db.connection import Database
from possync.db.migrate import migrate
from possync.simulator import running_simulator

RESULTS = BENCH_DIR / "results" / "reliability.md"
TEMPLATE = "possync_reliability_template"


@contextmanager
def database_factory() -> Iterator[DatabaseFactory]:
    """Fresh migrated databases on the benchmark server, cloned from one template."""
    root = server()
    with psycopg.connect(root.url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(TEMPLATE)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(TEMPLATE)))
    template = root.with_database_name(TEMPLATE)
    migrate(template, bench_settings(template))

    @contextmanager
    def fresh() -> Iterator[Database]:
        name = f"rel_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(root.url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                    sql.Identifier(name), sql.Identifier(TEMPLATE)
                )
            )
        try:
            yield root.with_database_name(name)
        finally:
            with psycopg.connect(root.url, autocommit=True) as conn:
                conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))

    try:
        yield fresh
    finally:
        with psycopg.connect(root.url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(TEMPLATE)))


def run_all(
    counts: TrialCounts, kits: list[SourceKit], seed: int, work: Path
) -> list[ScenarioResult]:
    """Every scenario, in the order of the table; one that crashes is a failed row."""
    results: list[ScenarioResult] = []

    def run(scenario: str, source: str, trial: Callable[[], ScenarioResult]) -> None:
        try:
            result = trial()
        except Exception as exc:
            result = ScenarioResult(scenario, source)
            result.problems.append(f"the scenario itself failed: {type(exc).__name__}: {exc}")
        results.append(result)
        state = "ok" if result.ok else "FAILED"
        print(f"[{state}] {result.explain()} ({result.seconds:.0f}s)", file=sys.stderr, flush=True)

    with database_factory() as fresh:

        def kills(kit: SourceKit) -> ScenarioResult:
            with running_simulator(kit.simulator_config(seed)) as sim, fresh() as db:
                where = work / f"kill-{kit.name}"
                return kill_trials(kit, db, sim, where, trials=counts.kills, seed=seed)

        def restarts(kit: SourceKit, server: RestartableServer) -> ScenarioResult:
            with running_simulator(kit.simulator_config(seed)) as sim:
                where = work / f"restart-{kit.name}"
                return restart_trials(kit, server, sim, where, trials=counts.restarts, seed=seed)

        def serve_restarts(kit: SourceKit, server: RestartableServer) -> ScenarioResult:
            with running_simulator(kit.simulator_config(seed)) as sim:
                where = work / f"serve-restart-{kit.name}"
                return serve_restart_trials(
                    kit, server, sim, where, restarts=counts.serve_restarts, seed=seed
                )

        def simultaneous(kit: SourceKit) -> ScenarioResult:
            with running_simulator(kit.simulator_config(seed)) as sim, fresh() as db:
                where = work / f"simultaneous-{kit.name}"
                return simultaneous_triggers(kit, db, sim, where, trials=counts.simultaneous)

        def secrets() -> ScenarioResult:
            with fresh() as db:
                return secret_scan(db, work / "secrets", seed=seed, server_log=server_log(server()))

        for kit in kits:
            run("kill -9", kit.name, partial(kills, kit))
        restartable = RestartableServer()
        try:
            for kit in kits:
                run("restart", kit.name, partial(restarts, kit, restartable))
            for kit in kits:
                run("restart under serve", kit.name, partial(serve_restarts, kit, restartable))
        finally:
            restartable.stop()
        for kit in kits:
            soak = partial(fault_soak, kit, fresh, work / "soak", trials=counts.soaks, seed=seed)
            run("soak", kit.name, soak)
        for kit in kits:
            bad = partial(
                malformed_trials, kit, fresh, work / "malformed", trials=counts.malformed, seed=seed
            )
            run("malformed", kit.name, bad)
        bad_values = partial(
            bad_value_trials, fresh, work / "bad-values", trials=bad_trials_for(counts), seed=seed
        )
        run("bad values", "lightspeed", bad_values)
        for kit in kits:
            answers = partial(
                malformed_answer_trials,
                kit,
                fresh,
                work / "answers",
                trials=max(1, counts.kills // 25),
                seed=seed,
            )
            run("malformed answers", kit.name, answers)
        for kit in kits:
            drip = partial(dripping_trials, kit, fresh, work / "drip", trials=counts.soaks)
            run("dripping server", kit.name, drip)
        for kit in kits:
            run("simultaneous", kit.name, partial(simultaneous, kit))
        run("secret scan", "both", secrets)
    return results


def _faults(result: ScenarioResult) -> str:
    return ", ".join(f"{kind} {count:,}" for kind, count in result.faults.most_common()) or "—"


def render(results: list[ScenarioResult], command: str, counts: TrialCounts) -> str:
    """The markdown table, with the command, the date and the machine."""
    today = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "### Reliability: crashes, faults, malformed records, concurrency, secrets",
        "",
        f"Command: `{command}` ({counts.kills} kill trials per source). {today}. "
        f"Machine: {machine_line()}.",
        "",
        "| scenario | source | trials | faults injected | records checked | lost | duplicated "
        "| other problems | seconds |",
        "|---|---|---:|---|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        other = r.tally.mismatched + len(r.problems)
        checked, lost, duplicated = (
            (f"{r.tally.checked:,}", str(r.tally.lost), str(r.tally.duplicated))
            if r.records
            else ("—", "—", "—")
        )
        lines.append(
            f"| {r.scenario} | {r.source} | {r.trials} | {_faults(r)} | {checked} | {lost} "
            f"| {duplicated} | {other} | {r.seconds:.0f} |"
        )
    lines.append(
        f"| **total** | | **{sum(r.trials for r in results)}** | "
        f"{sum(sum(r.faults.values()) for r in results):,} | "
        f"{sum(r.tally.checked for r in results):,} | **{sum(r.tally.lost for r in results)}** "
        f"| **{sum(r.tally.duplicated for r in results)}** "
        f"| {sum(r.tally.mismatched + len(r.problems) for r in results)} "
        f"| {sum(r.seconds for r in results):.0f} |"
    )
    lines += ["", *_legend()]
    notes = [f"- {r.scenario} ({r.source}): {note}" for r in results for note in r.notes]
    if notes:
        lines += ["", "Notes:", "", *notes]
    failures = [r for r in results if not r.ok]
    if failures:
        lines += ["", "Failures:", ""]
        lines += [f"- {r.explain()}" for r in failures]
    return "\n".join(lines) + "\n"


def _legend() -> list[str]:
    return [
        "Trials: kill -9 = syncs killed (SIGKILL) at a random moment, each resuming the last; "
        "restarts = PostgreSQL restarted (fast or immediate) under a running sync; restarts "
        "under serve = PostgreSQL restarted under `possync serve` with a sync job queued before "
        "and one after each restart, every job run to success; soak and "
        "malformed = fresh stores and databases, imported then synced again after a day of "
        "time travel; simultaneous = rounds of 4 threads starting a full refresh of one "
        "entity, then a sync of everything, at once; malformed answers = every entity synced "
        "(`--full` and incremental) against each of the simulator's 8 malformed HTTP 200 "
        "bodies, each run refused with rows and cursor unchanged; dripping server = a sync "
        "against headers then a byte every 0.3 s, ended by the 1.5 s request deadline; "
        "secret scan = artifacts scanned (CLI "
        "output, logs, tables, pages, alert bodies). Lost = truth records missing (or "
        "malformed ones in neither table nor quarantine); duplicated = a source id in two "
        "rows, a child row of an older version of its parent, or a sale counted twice in a "
        "day; other problems = wrong deleted state, unknown ids, days whose money differs, "
        "orphaned children, overlapping runs, errors that were not one line, secrets seen.",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.reliability", description=__doc__)
    parser.add_argument(
        "--trials",
        type=int,
        default=int(os.environ.get("POSSYNC_RELIABILITY_TRIALS", "50")),
        help="kill -9 trials per source (default 50 or POSSYNC_RELIABILITY_TRIALS)",
    )
    parser.add_argument("--seed", type=int, default=1, help="seed of every random choice")
    parser.add_argument(
        "--source", action="append", choices=sorted(KITS), help="only this source (repeatable)"
    )
    parser.add_argument("--output", type=Path, default=RESULTS, help="where to write the table")
    args = parser.parse_args(argv)
    counts = TrialCounts(args.trials)
    kits = [KITS[name] for name in args.source or ("lightspeed", "square")]
    with tempfile.TemporaryDirectory(prefix="possync-reliability-") as work:
        results = run_all(counts, kits, args.seed, Path(work))
    command = "python -m bench.reliability " + " ".join(argv if argv is not None else sys.argv[1:])
    table = render(results, command.strip(), counts)
    print(table)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(table)
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
