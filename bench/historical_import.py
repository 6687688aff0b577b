"""Historical import of one simulated Lightspeed store: possync against dlt and row by row.

Every contender reads the same `/sales` pages of the same simulator process (page_size 1000,
`after=version.max`) and writes into a fresh database on the same PostgreSQL server, in one
run; rows = sales + line items + payments, counted in SQL the same way for each:

  possync   `possync sync --source lightspeed --entity sales`, its own process, end to end;
  dlt       a dlt pipeline (rest_api source, merge on `id`, PostgreSQL destination), its own
            process, end to end: with dlt's defaults (INSERT … VALUES files) and with csv
            files (loaded by COPY), see bench/dlt_pipeline.py;
  row by row  the seeds' way: one `INSERT … ON CONFLICT` and one commit per row, timed on the
            first 3,000 sales only (database time only: download and validation are not
            timed, which favours it);
  limits    (a) raw download + parse of the pages, (b) raw COPY of the validated rows.

Then, on possync's database: the rest of the store (`possync sync --source lightspeed`), and
the same command again with nothing new (an incremental sync: wall time and requests, median
of three). Peak memory of the sync process at this store size and at a smaller one.
`--repeat N` runs possync and dlt N times in turns and shows the median run (a busy machine).

Rerun: .venv/bin/python -m bench.historical_import --scale medium   (about 2 minutes)
       .venv/bin/python -m bench.historical_import --scale large    (about 20 minutes)
"""

from __future__ import annotations

import argparse
import statistics
from dataclasses import dataclass, field, replace
from typing import Any

from bench.common import (
    SimulatorProcess,
    last_sync_log_id,
    machine_line,
    possync_command,
    possync_env,
    run_measured,
    run_totals,
    scratch_database,
    simulator_process,
    simulator_requests,
    write_results,
)
from bench.dlt_pipeline import measure_dlt
from bench.lightspeed_sync import BASELINE_SALES, end_to_end, raw_copy, row_by_row, walk_sales
from bench.rate_limit import register_count
from possync.db.connection import Database
from possync.sources.registry import tables_for

SMALLER = {"medium": "small", "large": "medium"}
INCREMENTAL_RUNS = 3
ENTITIES = len(tables_for("lightspeed"))  # synced entities (children ride along)


@dataclass(frozen=True)
class Contender:
    name: str
    rows: int
    seconds: float
    peak_mib: float | None = None
    sample: bool = False  # timed on part of the store only

    @property
    def rate(self) -> float:
        return self.rows / self.seconds


@dataclass
class ImportResults:
    scale: str
    smaller: str
    contenders: list[Contender] = field(default_factory=list)
    limits: list[Contender] = field(default_factory=list)
    sales_requests: int = 0
    rest_seconds: float = 0.0
    rest_requests: int = 0
    incremental_seconds: float = 0.0
    incremental_requests: int = 0
    incremental_logged_requests: int = 0
    smaller_rows: int = 0
    smaller_seconds: float = 0.0
    smaller_peak_mib: float = 0.0
    registers: int = 0
    repeat: int = 1

    @property
    def possync(self) -> Contender:
        return self.contenders[0]


POSSYNC = "possync (`possync sync --source lightspeed --entity sales`)"
DLT_LOADERS = (
    ("insert_values", "dlt, defaults (INSERT … VALUES)"),
    ("csv", "dlt, csv files loaded by COPY"),
)


def after_the_import(db: Database, sim: SimulatorProcess, results: ImportResults) -> None:
    """On possync's database: the rest of the store, then the same sync with nothing new."""
    env = possync_env(db, sim)
    sync_all = possync_command("sync", "--source", "lightspeed")
    served = simulator_requests(sim)
    results.rest_seconds, _ = run_measured(sync_all, env)
    results.rest_requests = simulator_requests(sim) - served
    results.registers = register_count(db)
    timings, requests, logged = [], [], []
    for _ in range(INCREMENTAL_RUNS):
        served, last_log = simulator_requests(sim), last_sync_log_id(db)
        timings.append(run_measured(sync_all, env)[0])
        requests.append(simulator_requests(sim) - served)
        logged.append(run_totals(db, last_log).requests)
    results.incremental_seconds = statistics.median(timings)
    results.incremental_requests = max(requests)
    results.incremental_logged_requests = max(logged)


def contenders_round(sim: SimulatorProcess, results: ImportResults, first: bool) -> list[Contender]:
    """possync, then dlt with each loader, each into a fresh database; the first round also
    measures what follows the import on possync's database."""
    round_results = []
    with scratch_database() as db:
        served = simulator_requests(sim)
        seconds, peak, rows = end_to_end(db, sim)
        round_results.append(Contender(POSSYNC, rows, seconds, peak))
        if first:
            results.sales_requests = simulator_requests(sim) - served
            after_the_import(db, sim, results)
    for file_format, label in DLT_LOADERS:
        with scratch_database(migrated=False) as db:
            seconds, peak, rows = measure_dlt(db, sim, file_format)
        round_results.append(Contender(label, rows, seconds, peak))
    return round_results


def median_run(runs: list[Contender]) -> Contender:
    """The run with the median time (the lower one of an even count), with the highest peak."""
    chosen = sorted(runs, key=lambda run: run.seconds)[(len(runs) - 1) // 2]
    peaks = [run.peak_mib for run in runs if run.peak_mib is not None]
    return replace(chosen, peak_mib=max(peaks) if peaks else None)


def baseline_and_limits(sim: SimulatorProcess, results: ImportResults) -> None:
    pages, download_seconds, download_rows = walk_sales(sim.lightspeed_url, sim.token)
    with scratch_database() as db:
        baseline_seconds, baseline_rows = row_by_row(db, pages)
    results.contenders.append(
        Contender(
            f"row by row: upsert + commit per row (seeds), first {BASELINE_SALES:,} sales",
            baseline_rows,
            baseline_seconds,
            sample=True,
        )
    )
    results.limits.append(
        Contender("(a) raw download + parse of the same pages", download_rows, download_seconds)
    )
    with scratch_database() as db:
        copy_seconds, copy_rows = raw_copy(db, pages)
    results.limits.append(Contender("(b) raw COPY of the same rows", copy_rows, copy_seconds))


def smaller_store(results: ImportResults) -> None:
    """Peak memory of possync's sales import at the smaller store size."""
    with (
        simulator_process(results.smaller, extra_args=("--no-square",)) as sim,
        scratch_database() as db,
    ):
        seconds, peak, rows = end_to_end(db, sim)
    results.smaller_rows, results.smaller_seconds, results.smaller_peak_mib = rows, seconds, peak


def measure(scale: str, repeat: int = 1) -> ImportResults:
    """Every measurement; with `repeat` > 1 the contenders run in turns, median reported."""
    results = ImportResults(scale, SMALLER[scale], repeat=repeat)
    with simulator_process(scale, extra_args=("--no-square",)) as sim:
        rounds = [contenders_round(sim, results, first=turn == 0) for turn in range(repeat)]
        results.contenders = [median_run(list(runs)) for runs in zip(*rounds, strict=True)]
        baseline_and_limits(sim, results)
    smaller_store(results)
    return results


def markdown(results: ImportResults, command: str) -> str:
    """The tables: contenders with ratios, raw limits, incremental, memory at two sizes."""
    ours = results.possync
    lines = [
        f"### Historical import: {results.scale} Lightspeed store, {ours.rows:,} rows "
        "(sales + line items + payments)",
        "",
        f"Same simulator process, same PostgreSQL server, one run. Command: `{command}`.",
        *(
            [f"Each contender ran {results.repeat} times in turns; the median run is shown."]
            if results.repeat > 1
            else []
        ),
        "",
        "| contender | rows | seconds | rows/s | possync ÷ this | peak memory |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for entry in results.contenders:
        ratio = ours.rate / entry.rate
        peak = f"{entry.peak_mib:,.0f} MiB" if entry.peak_mib is not None else "–"
        same = "" if entry.sample or entry.rows == ours.rows else " (rows differ!)"
        lines.append(
            f"| {entry.name}{same} | {entry.rows:,} | {entry.seconds:.1f} | {entry.rate:,.0f} "
            f"| **{ratio:.2f}** | {peak} |"
        )
    lines += ["", "| limit (same pages and rows) | rows/s | possync ÷ this |", "|---|---:|---:|"]
    for entry in results.limits:
        lines.append(f"| {entry.name} | {entry.rate:,.0f} | {ours.rate / entry.rate:.2f} |")
    budget = 300 * results.registers + 50
    total_requests = results.sales_requests + results.rest_requests
    lines += [
        "",
        "| after the import | value |",
        "|---|---:|",
        f"| requests for the whole store ({ENTITIES} entities, page_size 1000) | "
        f"{total_requests:,} ({total_requests / budget:.0%} of one 5-minute window's "
        f"budget of {budget:,}) |",
        f"| the rest of the store after sales (`possync sync --source lightspeed`) | "
        f"{results.rest_seconds:.1f} s |",
        f"| **incremental sync with nothing new**: wall time (median of "
        f"{INCREMENTAL_RUNS}) | **{results.incremental_seconds:.2f} s** |",
        f"| incremental sync with nothing new: HTTP requests (simulator's count) | "
        f"**{results.incremental_requests}** |",
        f"| the same, as `sync_log` metadata counts them | {results.incremental_logged_requests} |",
        "",
        "| store | rows | seconds | peak memory of `possync sync … --entity sales` |",
        "|---|---:|---:|---:|",
        f"| {results.smaller} | {results.smaller_rows:,} | {results.smaller_seconds:.1f} | "
        f"{results.smaller_peak_mib:,.0f} MiB |",
        f"| {results.scale} | {ours.rows:,} | {ours.seconds:.1f} | {ours.peak_mib or 0:,.0f} MiB |",
    ]
    return "\n".join(lines)


def summary(results: ImportResults) -> dict[str, Any]:
    """The numbers run_all's summary needs."""
    ours = results.possync
    return {
        "scale": results.scale,
        "rows": ours.rows,
        "rates": {entry.name: entry.rate for entry in results.contenders},
        "possync_rate": ours.rate,
        "best_dlt_rate": max(e.rate for e in results.contenders if e.name.startswith("dlt")),
        "row_by_row_rate": results.contenders[-1].rate,
        "incremental_seconds": results.incremental_seconds,
        "incremental_requests": results.incremental_requests,
        "peak_mib": {results.smaller: results.smaller_peak_mib, results.scale: ours.peak_mib},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="medium", choices=sorted(SMALLER))
    parser.add_argument("--repeat", type=int, default=1, help="runs of each contender (median)")
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    results = measure(args.scale, args.repeat)
    command = f".venv/bin/python -m bench.historical_import --scale {args.scale}"
    command += f" --repeat {args.repeat}" if args.repeat > 1 else ""
    text = f"Machine: {machine_line()}.\n\n{markdown(results, command)}\n"
    write_results("historical_import", text, summary(results))


if __name__ == "__main__":
    main()
