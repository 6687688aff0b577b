"""Every benchmark in one command; writes bench/results/performance.md and prints it.

    python3 tasks.py bench                  the large store (the published numbers; ~30 min)
    python3 tasks.py bench --scale medium   the medium store (a check; ~10 min)

In order, each in its own process (so one's memory never counts against the next):
  bench.historical_import  possync vs dlt vs row by row, raw limits, incremental, memory;
  bench.rate_limit         a full import against the simulator's rate limit;
  bench.dashboard_load     50 clients on the dashboard with a million sync_log rows;
  bench.analytics_pages    p50/p95 of the Sales, Products and Stock pages on the store;
  bench.square_sync        the Square import (when that benchmark is present);
  bench.many_shops         200 shops on one, then two workers (`--shops N`; 20 with
                           --scale medium; about an hour at 200 on a shared 2-core machine).
Each writes bench/results/NAME.md (and NAME.json with its key numbers); this script adds a
summary and the machine, date and command on top. A benchmark that fails is reported as
failed and the others still run; the exit code is then 1.

Also runnable as `.venv/bin/python -m bench.run_all --scale medium`.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"
SMALLER = {"medium": "small", "large": "medium"}
SHOPS = {"medium": 20, "large": 200}  # bench.many_shops's shops when --shops is not given


def benchmarks(args: argparse.Namespace) -> list[tuple[str, list[str]]]:
    """(results name, module arguments) of every benchmark to run."""
    planned = [
        (
            "historical_import",
            ["bench.historical_import", "--scale", args.scale, "--repeat", str(args.repeat)],
        ),
        ("rate_limit", ["bench.rate_limit", "--window", f"{args.window:g}"]),
        (
            "dashboard_load",
            [
                "bench.dashboard_load",
                "--clients",
                str(args.clients),
                "--seconds",
                str(args.seconds),
            ],
        ),
    ]
    planned.append(
        (
            "analytics_pages",
            ["bench.analytics_pages", "--scale", args.scale, "--requests", str(args.requests)],
        )
    )
    if (BENCH_DIR / "square_sync.py").exists():
        square = ["--scale", args.scale, "--memory-scale", SMALLER[args.scale]]
        planned.append(("square_sync", ["bench.square_sync", *square]))
    shops = args.shops if args.shops is not None else SHOPS[args.scale]
    planned.append(
        (
            "many_shops",
            ["bench.many_shops", "--shops", str(shops), "--scale", SMALLER[args.scale]],
        )
    )
    return [(name, module) for name, module in planned if name not in args.skip]


def run_benchmark(name: str, module: list[str]) -> tuple[str, float, bool]:
    """Run one benchmark in its own process; returns its markdown, seconds and success."""
    for stale in (RESULTS_DIR / f"{name}.md", RESULTS_DIR / f"{name}.json"):
        stale.unlink(missing_ok=True)
    print(f"run_all: {' '.join(module)}", file=sys.stderr, flush=True)
    started = time.perf_counter()
    code = subprocess.call([sys.executable, "-m", *module], cwd=ROOT)
    seconds = time.perf_counter() - started
    result = RESULTS_DIR / f"{name}.md"
    if code != 0 or not result.exists():
        return (
            f"### {name}\n\n**Failed** (exit code {code}): rerun `python -m {module[0]}`.",
            seconds,
            False,
        )
    return strip_machine_line(result.read_text()).strip(), seconds, True


def strip_machine_line(text: str) -> str:
    """Drop a benchmark's leading `Machine: …` paragraph: the report states it once."""
    if text.startswith("Machine:"):
        return text.split("\n\n", 1)[1] if "\n\n" in text else ""
    return text


def load_numbers(name: str, ran: set[str]) -> dict[str, Any] | None:
    """A benchmark's key numbers from this run (never a skipped one's from an older run)."""
    path = RESULTS_DIR / f"{name}.json"
    if name not in ran or not path.exists():
        return None
    numbers: dict[str, Any] = json.loads(path.read_text())
    return numbers


def summary_rows(ran: set[str]) -> list[str]:
    """One line per question the issue asks, from the JSON of the benchmarks that ran."""
    rows: list[str] = []
    imported = load_numbers("historical_import", ran)
    if imported:
        ours, dlt, seeds = (
            imported["possync_rate"],
            imported["best_dlt_rate"],
            imported["row_by_row_rate"],
        )
        peaks = " / ".join(f"{size} {mib:,.0f} MiB" for size, mib in imported["peak_mib"].items())
        verdict = "**yes**" if ours > dlt and ours > seeds else "**no**"
        rows += [
            f"| historical import, {imported['scale']} store ({imported['rows']:,} rows): "
            f"possync | {ours:,.0f} rows/s |",
            f"| possync ÷ dlt (the faster of its two loaders) | {ours / dlt:.2f} × |",
            f"| possync ÷ row by row (the seeds' way) | {ours / seeds:.1f} × |",
            f"| possync beats dlt and row by row on rows/s | {verdict} |",
            f"| incremental sync with nothing new | {imported['incremental_seconds']:.2f} s, "
            f"{imported['incremental_requests']} requests |",
            f"| peak memory of `possync sync` at two store sizes | {peaks} |",
        ]
    limited = load_numbers("rate_limit", ran)
    if limited:
        full = limited["full_window_share"]
        whole = f"{full:.0%} in the whole windows, " if full is not None else ""
        rows.append(
            f"| against the rate limit ({limited['window_seconds']:g}-s windows): share of the "
            f"allowed budget used; 429s | {whole}{limited['share']:.0%} over the elapsed time; "
            f"{limited['rate_limited']} |"
        )
    pages = load_numbers("analytics_pages", ran)
    if pages:
        rows.append(
            f"| business pages (Sales, Products, Stock, daily-sales JSON; 30/90/365 days), "
            f"{pages['scale']} store ({pages['rows']:,} sale rows): slowest p95 | "
            f"{pages['worst_p95_ms']:,.0f} ms (target < 300 ms) |"
        )
    load = load_numbers("dashboard_load", ran)
    if load:
        for run in load["runs"]:
            if run["pause"] == 0 and run["clients"] == load["clients"]:
                rows.append(
                    f"| dashboard `{run['path']}`, {load['clients']} clients, "
                    f"{load['sync_log_rows']:,} sync_log rows, status cache {run['cache']}: "
                    "p50 / p95 | "
                    f"{run['p50_ms']:,.0f} / {run['p95_ms']:,.0f} ms "
                    f"({run['per_second']:,.0f} requests/s) |"
                )
    fleet = load_numbers("many_shops", ran)
    if fleet:
        rows += [
            f"| {fleet['shops']} shops, one worker: worst freshness after the hour; no-change "
            f"sync per shop | {fleet['worst_fresh_seconds']:,.0f} s (target < 600 s); "
            f"{fleet['no_change_wall_per_shop']:.3f} s wall, "
            f"{fleet['no_change_cpu_per_shop']:.3f} CPU s |",
            f"| shops one worker keeps hourly (extrapolated from the no-change cycle) | "
            f"{fleet['shops_per_worker_hour']:,.0f} (target 1,000) |",
        ]
    return rows


def report(args: argparse.Namespace, ran: set[str], sections: list[str], timings: list[str]) -> str:
    sys.path.insert(0, str(ROOT))  # run as a file by tasks.py: make `bench` importable
    from bench.common import machine_line

    command = " ".join(["python3 tasks.py bench", *sys.argv[1:]])
    summary = summary_rows(ran)
    lines = [
        f"# possync benchmarks ({args.scale} store)",
        "",
        f"- Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- Machine: {machine_line()}",
        f"- Command: `{command}` (from the repository root)",
        f"- Took: {', '.join(timings)}",
        "",
    ]
    if summary:
        lines += ["## Summary", "", "| question | result |", "|---|---|", *summary, ""]
    lines += [section + "\n" for section in sections]
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--scale", default="large", choices=sorted(SMALLER), help="store size (default large)"
    )
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs of each import contender (median shown)"
    )
    parser.add_argument("--window", type=float, default=50.0, help="rate-limit window, seconds")
    parser.add_argument("--clients", type=int, default=50, help="dashboard clients")
    parser.add_argument("--seconds", type=int, default=20, help="load per dashboard row")
    parser.add_argument(
        "--requests", type=int, default=20, help="requests per business page (analytics_pages)"
    )
    parser.add_argument(
        "--shops",
        type=int,
        default=None,
        help="shops in bench.many_shops (default 200 at --scale large, 20 at medium)",
    )
    parser.add_argument(
        "--skip",
        action="append",
        default=[],
        choices=[
            "historical_import",
            "rate_limit",
            "dashboard_load",
            "analytics_pages",
            "square_sync",
            "many_shops",
        ],
        help="leave a benchmark out (repeatable)",
    )
    args = parser.parse_args(argv)
    if min(args.repeat, args.clients, args.seconds) < 1 or not args.window > 0:
        parser.error("--repeat, --clients, --seconds and --window must be positive")
    if args.shops is not None and args.shops < 4:
        parser.error("--shops must be at least 4")
    return args


def main() -> int:
    args = parse_args()
    started = time.perf_counter()
    sections: list[str] = []
    timings: list[str] = []
    failed: list[str] = []
    ran: set[str] = set()
    for name, module in benchmarks(args):
        text, seconds, ok = run_benchmark(name, module)
        sections.append(text)
        timings.append(f"{name} {seconds / 60:.1f} min")
        if ok:
            ran.add(name)
        else:
            failed.append(name)
    timings.append(f"total {(time.perf_counter() - started) / 60:.1f} min")
    text = report(args, ran, sections, timings)
    RESULTS_DIR.mkdir(exist_ok=True)
    (RESULTS_DIR / "performance.md").write_text(text)
    print(text)
    print(f"run_all: wrote {RESULTS_DIR / 'performance.md'}", file=sys.stderr)
    if failed:
        print(f"run_all: failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
