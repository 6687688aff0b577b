"""Many shops: 200 shops of mixed sizes kept current by one, then two `possync worker` processes.

One simulator serves a store per shop (`--stores N`: store 1 at `--scale`, every tenth `small`,
the rest `tiny`), one embedded PostgreSQL holds every shop's schema, and every shop is
registered with `possync shops add` (its token from a file). For each worker count, on a fresh
copy of the registered shops:
  first import   a sync job per (shop, source) deferred at once, timed until all are done;
  hourly cycle   the stores trade an hour, then every shop's incremental sync is deferred at a
                 known instant (what the hourly schedule does), timed until all are done;
  no change      the same again with nothing new: the cost of a no-change shop sync;
  one failing    no change, but one shop's store answers 500 to everything: the others'
                 freshness; then its API comes back and its retried jobs catch up;
  one dripping   no change, but one shop's Lightspeed sends a byte a second and never ends
                 (a stalled API, re-pointed at bench/trials/dripping.py): the others' freshness.
Freshness of a shop = when its last sync of the cycle finished minus the cycle's start.

Rerun: .venv/bin/python -m bench.many_shops (200 shops: about 70 min on a 2-core machine shared
with other work), `--shops 20 --scale small --fault-timeout 60` for a check (~6 min). Writes
bench/results/many_shops.{md,json}.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx

from bench.common import RESULTS_DIR, machine_line, simulator_process, write_results
from bench.trials.dripping import dripping_server
from bench.trials.fleet import (
    Fleet,
    advance_stores,
    copy_of_template,
    point_lightspeed_at,
    register_shops,
    set_store_faults,
    shop_name,
    shop_schema,
    warm_stores,
    workers,
)
from bench.trials.fleet_measure import (
    CpuMeter,
    Sampler,
    freshness,
    job_states,
    job_walls,
    postmaster_pid,
    spread,
    wait_for_jobs,
)
from bench.trials.pgserver import RestartableServer
from bench.trials.square_truth import assert_square_matches_truth
from bench.trials.truth import assert_lightspeed_matches_truth
from possync.db.connection import Database
from possync.jobs.queue import JobQueue

SOURCES = ("lightspeed", "square")
DRIPPING_STORE, FAILING_STORE = 2, 3
TARGET_FRESH_SECONDS = 600.0  # every shop fresh within 10 minutes of its hour
TARGET_SHOPS_PER_WORKER = 1000


def simulator_requests(base_url: str) -> int:
    stats = httpx.get(f"{base_url}/_simulator/stats", timeout=30).json()
    return sum(int(count) for count in stats["requests"].values())


def run_cycle(
    label: str,
    fleet: Fleet,
    db: Database,
    worker_pids: list[int],
    *,
    ignore: frozenset[str] = frozenset(),
    timeout: float,
) -> dict[str, Any]:
    """Defer every shop's sync of each source now, wait until every job (but those of the
    `ignore`d shops) is done, and measure the cycle."""
    names = [shop_name(store) for store in range(1, fleet.shops + 1)]
    meter = CpuMeter(
        {
            "workers": worker_pids,
            "postgres": [postmaster_pid(fleet.server.pgdata)],
            "simulator": [fleet.sim.process.pid],
        }
    )
    queue = JobQueue(fleet.settings(db), db)
    requests_before = simulator_requests(fleet.sim.base_url)
    with db.connect() as conn:
        started = conn.execute("SELECT clock_timestamp()").fetchone()[0]  # type: ignore[index]
    meter.start()
    began = time.perf_counter()
    jobs: dict[str, list[int]] = {}
    with Sampler(db, worker_pids) as sampler:
        try:
            for name in names:
                for source in SOURCES:
                    job = queue.enqueue_sync(source, shop=name, trigger="schedule")
                    if job.job_id is not None:
                        jobs.setdefault(name, []).append(job.job_id)
        finally:
            queue.close()
        deferred = time.perf_counter() - began
        watched = [job for name, ids in jobs.items() if name not in ignore for job in ids]
        timed_out = wait_for_jobs(db, watched, timeout - deferred) is None
        wall = time.perf_counter() - began
    cpu = meter.stop()
    every_job = [job for ids in jobs.values() for job in ids]
    schemas = {shop_name(store): shop_schema(store) for store in range(1, fleet.shops + 1)}
    ages = freshness(db, schemas, started)
    others = [age for name, age in ages.items() if name not in ignore]
    walls = job_walls(db, every_job)
    result: dict[str, Any] = {
        "label": label,
        "wall_seconds": wall,
        "timed_out": timed_out,
        "defer_seconds": deferred,
        "jobs": len(every_job),
        "fresh": spread([age for age in others if age is not None]),
        "not_fresh": sorted(name for name in ages if name not in ignore and ages[name] is None),
        "shop_sync_wall": spread(list(walls.values())),
        "cpu_seconds": cpu,
        "requests": simulator_requests(fleet.sim.base_url) - requests_before,
        "job_ids": jobs,
        **sampler.summary(),
    }
    if ignore:
        states = job_states(db, every_job)
        result["faulty"] = {name: (ages[name], states.get(name, [])) for name in sorted(ignore)}
    print(
        f"many_shops: {label}: {wall:.1f} s, fresh p50/p95/max "
        f"{result['fresh']['p50']:.1f}/{result['fresh']['p95']:.1f}/{result['fresh']['max']:.1f} s,"
        f" not fresh {len(result['not_fresh'])}, cpu {cpu}",
        file=sys.stderr,
        flush=True,
    )
    return result


def run_worker_count(
    fleet: Fleet, count: int, args: argparse.Namespace
) -> dict[str, dict[str, Any]]:
    """Every cycle with `count` worker processes, on a fresh copy of the registered shops."""
    db = copy_of_template(fleet, f"fleet_{count}_workers")
    results: dict[str, dict[str, Any]] = {}
    with workers(fleet, db, count, fleet.work_dir) as pids:
        time.sleep(3)  # let the workers connect before the clock starts
        results["first_import"] = run_cycle(
            f"{count}w first import", fleet, db, pids, timeout=args.cycle_timeout
        )
        advance_stores(fleet.sim, 60)
        results["hourly"] = run_cycle(
            f"{count}w hourly", fleet, db, pids, timeout=args.cycle_timeout
        )
        results["no_change"] = run_cycle(
            f"{count}w no change", fleet, db, pids, timeout=args.cycle_timeout
        )

        failing = shop_name(FAILING_STORE)
        set_store_faults(fleet.sim, FAILING_STORE, error_rate=1.0)
        try:
            results["failing"] = run_cycle(
                f"{count}w one shop answering 500", fleet, db, pids,
                ignore=frozenset({failing}), timeout=args.fault_timeout,
            )  # fmt: skip
        finally:
            set_store_faults(fleet.sim, FAILING_STORE)
        # Its API is back: its jobs retry by themselves (and any job the cap left behind ends).
        left = [job for ids in results["failing"]["job_ids"].values() for job in ids]
        results["failing"]["recovered_seconds"] = wait_for_jobs(db, left, args.fault_timeout)
        # Before the dripping shop is pointed away from its store: every shop, the one that
        # answered 500 included, equals its store's truth.
        results["failing"]["truth_differing"] = shops_differing_from_truth(fleet, db)

        # Last: a dripping request holds its worker slot until the workers are stopped.
        with dripping_server(interval=1.0, give_up_after=3600) as drip:
            point_lightspeed_at(fleet, db, DRIPPING_STORE, drip.url + "/api/2.0")
            results["dripping"] = run_cycle(
                f"{count}w one shop dripping", fleet, db, pids,
                ignore=frozenset({shop_name(DRIPPING_STORE)}), timeout=args.fault_timeout,
            )  # fmt: skip
    return results


def shops_differing_from_truth(fleet: Fleet, db: Database) -> list[str]:
    """Every shop's schema against its store's truth (ids alive and deleted, each day's
    money): the names of those that differ, with why."""
    differing = []
    for store in range(1, fleet.shops + 1):
        truth = httpx.get(
            f"{fleet.sim.base_url}/_simulator/truth", params={"store": store}, timeout=60
        ).json()
        with Database(db.url, shop_schema(store), isolated=True).connect() as conn:
            try:
                assert_lightspeed_matches_truth(conn, truth["lightspeed"])
                assert_square_matches_truth(conn, truth["square"])
            except AssertionError as exc:
                differing.append(f"{shop_name(store)}: {str(exc).splitlines()[0]}")
    return differing


def number(value: float) -> str:
    if value != value:  # nan: nothing measured (every shop of the cycle stale)
        return "–"
    if value == int(value):
        return f"{value:,.0f}"
    return f"{value:,.3f}" if value < 10 else f"{value:,.1f}"


def ratio(a: float, b: float) -> str:
    return f"{b / a:.2f} ×" if a > 0 and b == b else "–"


def seconds_cell(values: dict[str, float]) -> str:
    return f"{values['p50']:.1f} / {values['p95']:.1f} / {values['max']:.1f} s"


def report(
    args: argparse.Namespace, setup: dict[str, float], runs: dict[int, dict[str, dict[str, Any]]]
) -> tuple[str, dict[str, Any]]:
    counts = sorted(runs)
    shops = args.shops
    rows: list[tuple[str, list[float], str]] = []  # (metric, value per worker count, unit)

    def row(metric: str, values: list[float], unit: str = "s") -> None:
        rows.append((metric, values, unit))

    def per(cycle: str, pick: Any) -> list[float]:
        return [float(pick(runs[n][cycle])) for n in counts]

    row("first import of every shop: wall", per("first_import", lambda c: c["wall_seconds"]))
    row("hourly cycle: wall (all shops done)", per("hourly", lambda c: c["wall_seconds"]))
    for cycle, name in (("hourly", "hourly cycle (an hour of trade)"), ("no_change", "no change")):
        for key in ("p50", "p95", "max"):
            row(f"{name}: freshness {key}", per(cycle, lambda c, k=key: c["fresh"][k]))
    nc = "no-change shop sync"
    row(
        f"{nc}: wall per shop (cycle ÷ shops)",
        per("no_change", lambda c: c["wall_seconds"] / shops),
    )
    row(
        f"{nc}: jobs' own wall per shop, p50",
        per("no_change", lambda c: c["shop_sync_wall"]["p50"]),
    )
    for group in ("workers", "postgres", "simulator"):
        row(
            f"{nc}: CPU of {group} per shop",
            per("no_change", lambda c, g=group: c["cpu_seconds"][g] / shops),
            "CPU s",
        )
    row(f"{nc}: API requests per shop", per("no_change", lambda c: c["requests"] / shops), "")
    row("PostgreSQL client connections, max", per("hourly", lambda c: c["connections_max"]), "")
    row("PostgreSQL client connections, mean", per("hourly", lambda c: c["connections_mean"]), "")
    peak_rss = [max(runs[n][c]["worker_rss_max_mib"] for c in runs[n]) for n in counts]
    row("worker RSS, peak per process (with its writer)", peak_rss, "MiB")
    for cycle, name in (("failing", "one shop answering 500"), ("dripping", "one shop dripping")):
        for key in ("p50", "p95", "max"):
            row(f"{name}: the others' freshness {key}", per(cycle, lambda c, k=key: c["fresh"][k]))
        row(
            f"{name}: other shops not fresh after {args.fault_timeout:.0f} s",
            per(cycle, lambda c: len(c["not_fresh"])),
            "",
        )

    one = runs[counts[0]]["no_change"]
    per_shop_wall = one["wall_seconds"] / shops
    per_shop_cpu = (one["cpu_seconds"]["workers"] + one["cpu_seconds"]["postgres"]) / shops
    hour_fits = 3600 / per_shop_wall
    worst_fresh = max(runs[n][c]["fresh"]["max"] for n in counts for c in ("hourly", "no_change"))
    stale = sum(len(runs[n][c]["not_fresh"]) for n in counts for c in ("hourly", "no_change"))
    head = ["| | " + " | ".join(f"{n} worker{'s' if n > 1 else ''}" for n in counts) + " | ratio |"]
    head.append("|---" * (len(counts) + 2) + "|")
    lines = [
        f"Machine: {machine_line()}; load during the run (uptime): {setup['load_before']} before, "
        f"{os.getloadavg()[0]:.2f} after (other engineers' work shares the 2 cores)",
        "",
        f"### Many shops: {shops} shops of mixed sizes (store 1 `{args.scale}`, every tenth "
        "`small`, the rest `tiny`), Lightspeed + Square each",
        "",
        f"Command: `.venv/bin/python -m bench.many_shops --shops {shops} --scale {args.scale} "
        f"--fault-timeout {args.fault_timeout:g}` "
        f"(took {setup['total_minutes']:.0f} min). Registering the {shops} shops with "
        f"`possync shops add` took {setup['register_seconds']:.0f} s; workers run at "
        "`POSSYNC_WORKER_CONCURRENCY` 2 (the default), all settings default. Freshness: when a "
        "shop's last sync of the cycle finished, counted from the instant its jobs were deferred "
        "(p50 / p95 / max over the shops).",
        "",
        *head,
    ]
    for metric, values, unit in rows:
        cells = [f"{number(v)} {unit}".strip() for v in values]
        rate = ratio(values[0], values[-1]) if len(values) > 1 else "–"
        lines.append(f"| {metric} | " + " | ".join(cells) + f" | {rate} |")
    lines += ["", "The faulty shop at the end of its cycle (its jobs: status/attempts):", ""]
    for n in counts:
        for cycle in ("failing", "dripping"):
            for name, (age, states) in runs[n][cycle]["faulty"].items():
                fresh = "not fresh" if age is None else f"fresh after {age:.1f} s"
                lines.append(f"- {n} worker(s), {cycle}, {name}: {fresh}; jobs {', '.join(states)}")
        differing = runs[n]["failing"]["truth_differing"]
        lines.append(
            f"- {n} worker(s): shops equal to their store's truth after the 500 cycle: "
            f"{shops - len(differing)} of {shops}"
            + (f" (differing: {'; '.join(differing[:5])})" if differing else "")
        )
        back = runs[n]["failing"]["recovered_seconds"]
        later = f"not after {args.fault_timeout:.0f} s" if back is None else f"{back:.0f} s later"
        lines.append(
            f"- {n} worker(s): once its API answered again, the jobs of that cycle were all "
            f"done {later}"
        )
    verdict = "**met**" if worst_fresh < TARGET_FRESH_SECONDS and stale == 0 else "**not met**"
    enough = "**met**" if hour_fits >= TARGET_SHOPS_PER_WORKER else "**not met**"
    lines += [
        "",
        f"- Every shop fresh within 10 minutes of its hour: {verdict} (worst {worst_fresh:.0f} s "
        f"with {shops} shops; shops not fresh in those cycles: {stale}).",
        f"- One worker keeps 1,000 shops hourly: {enough}, extrapolated linearly from the "
        f"measured no-change cycle with one worker ({per_shop_wall:.3f} s of wall per shop, so "
        f"about {hour_fits:,.0f} shops an hour; 1,000 shops would take "
        f"{1000 * per_shop_wall / 60:.1f} min). Its CPU: {per_shop_cpu:.3f} CPU s per shop "
        f"(worker + PostgreSQL), {1000 * per_shop_cpu / 60:.1f} CPU min for 1,000 shops. The "
        "simulator answers in well under a millisecond; a real API's latency adds wall time a "
        "worker spends waiting (more concurrency hides it), not CPU.",
    ]
    numbers = {"shops": shops, "scale": args.scale, "setup": setup, "runs": runs}
    numbers.update(
        worst_fresh_seconds=worst_fresh,
        no_change_wall_per_shop=per_shop_wall,
        no_change_cpu_per_shop=per_shop_cpu,
        shops_per_worker_hour=hour_fits,
    )
    return "\n".join(lines) + "\n", numbers


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shops", type=int, default=200, help="shops (stores), default 200")
    parser.add_argument(
        "--scale", default="medium", choices=("small", "medium"), help="store 1's size"
    )
    parser.add_argument(
        "--workers", type=int, nargs="+", default=[1, 2], help="worker counts (default 1 2)"
    )
    parser.add_argument(
        "--cycle-timeout", type=float, default=1800.0, help="longest wait for one cycle, s"
    )
    parser.add_argument(
        "--fault-timeout",
        type=float,
        default=TARGET_FRESH_SECONDS,
        help="longest wait for the others in a fault cycle, and then for the failing shop to "
        "catch up, s (default 600: the target)",
    )
    args = parser.parse_args(argv)
    if args.shops < max(DRIPPING_STORE, FAILING_STORE) + 1:
        parser.error(f"--shops must be at least {max(DRIPPING_STORE, FAILING_STORE) + 1}")
    if min(args.workers) < 1:
        parser.error("--workers must be positive")
    return args


def _stop_on_sigterm(_signum: int, _frame: object) -> None:
    raise SystemExit(143)  # so the servers, simulator and workers are stopped on the way out


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    began = time.perf_counter()
    setup: dict[str, Any] = {"load_before": f"{os.getloadavg()[0]:.2f}"}
    with ExitStack() as stack:
        work_dir = stack.enter_context(tempfile.TemporaryDirectory(prefix="possync-fleet-"))
        server = RestartableServer()
        stack.callback(server.stop)
        sim = stack.enter_context(
            simulator_process(args.scale, extra_args=("--stores", str(args.shops)))
        )
        fleet = Fleet(server, sim, args.shops, Path(work_dir))
        warm_stores(sim, args.shops)
        setup["register_seconds"] = register_shops(fleet)
        runs: dict[int, dict[str, dict[str, Any]]] = {}
        for count in args.workers:
            runs[count] = run_worker_count(fleet, count, args)
            # Kept as it goes: a later failure must not lose a half hour of measurements.
            RESULTS_DIR.mkdir(exist_ok=True)
            partial = RESULTS_DIR / "many_shops.partial.json"
            partial.write_text(json.dumps({"setup": setup, "runs": runs}, default=str, indent=1))
    setup["total_minutes"] = (time.perf_counter() - began) / 60
    text, numbers = report(args, setup, runs)
    write_results("many_shops", text, numbers)
    return 0


if __name__ == "__main__":
    sys.exit(main())
