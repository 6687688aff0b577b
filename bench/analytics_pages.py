"""Business pages on a big store: p50/p95 of every Sales, Products and Stock page and of the
daily-sales JSON, on the large simulated Lightspeed store (about 2 million sale rows).

The store is imported for real (`possync sync` against the simulator in its own process, into
a scratch database on the embedded PostgreSQL, then ANALYZE), and each page is asked for
`--requests` times, one after another, through the real Flask app (login, templates, SQL,
rendering; no HTTP server in between) for the last 30 days, the last 90 days and the whole
year of data. Target: every page under 300 ms p95. The pages read the rollups of migrations
0012 and 0015 (daily, monthly and yearly product sums, the stock snapshot); the time to
rebuild them all is measured too (what a full import's sync adds).

Rerun: .venv/bin/python -m bench.analytics_pages                 (large store: the default)
       .venv/bin/python -m bench.analytics_pages --scale medium  (a quicker check)
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import time
from datetime import date, timedelta
from typing import Any

from bench.common import (
    ROOT,
    bench_settings,
    count_rows,
    machine_line,
    possync_command,
    possync_env,
    scratch_database,
    simulator_process,
    write_results,
)
from possync.db.connection import Database
from possync.web import create_app

TARGET_MS = 300.0
DATA_END = date(2026, 11, 1)  # the simulator's clock: its store's last business day
PASSWORD = "bench-password"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def import_store(db: Database, scale: str) -> tuple[int, float]:
    """A full Lightspeed import of the simulated store; (sale rows, seconds)."""
    with simulator_process(scale, extra_args=("--no-square",)) as sim:
        started = time.perf_counter()
        subprocess.run(
            possync_command("sync", "--source", "lightspeed"),
            env=possync_env(db, sim),
            cwd=ROOT,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        seconds = time.perf_counter() - started
    with db.connect(autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")  # what autovacuum does after a bulk load
    return count_rows(db), seconds


# Every day of the store marked stale, as a full import leaves it before the sync's refresh.
_ALL_DAYS_STALE = """
INSERT INTO analytics_stale_days
SELECT DISTINCT 'lightspeed', (sale_date AT TIME ZONE 'UTC')::date + d
FROM lightspeed_sales, generate_series(-1, 1) AS d ON CONFLICT DO NOTHING"""


def time_full_refresh(db: Database) -> float:
    """Seconds to rebuild every rollup of the store (what a full import's sync adds at its
    end), then VACUUM ANALYZE of the rollups as autovacuum would."""
    with db.connect(autocommit=True) as conn:
        conn.execute(_ALL_DAYS_STALE)
        started = time.perf_counter()
        conn.execute("SELECT analytics_refresh('lightspeed')")
        seconds = time.perf_counter() - started
        conn.execute("VACUUM ANALYZE")
    return seconds


def pages() -> list[tuple[str, str]]:
    """(label, path) of every page and endpoint at three range widths."""
    paths = []
    for days in (30, 90, 365):
        start = (DATA_END - timedelta(days=days - 1)).isoformat()
        query = f"?source=lightspeed&from={start}&to={DATA_END.isoformat()}"
        for name, path in (
            ("Sales page", "/sales"),
            ("Products page", "/products"),
            ("Stock page", "/stock"),
            ("daily-sales JSON", "/api/analytics/daily-sales"),
        ):
            paths.append((f"{name}, {days} days", path + query))
    return paths


def measure(db: Database, requests: int) -> list[dict[str, Any]]:
    settings = bench_settings(db, dashboard_password=PASSWORD, secret_key="bench-secret")
    app = create_app(settings, db)
    client = app.test_client()
    match = _CSRF.search(client.get("/login").get_data(as_text=True))
    assert match, "no CSRF token on the login page"
    client.post("/login", data={"password": PASSWORD, "csrf_token": match.group(1)})
    results = []
    try:
        for label, path in pages():
            first = client.get(path)  # warm: templates compiled, catalog cached
            if first.status_code != 200:
                raise RuntimeError(f"{path} answered {first.status_code}")
            timings = []
            for _ in range(requests):
                started = time.perf_counter()
                response = client.get(path)
                timings.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200
            timings.sort()
            p95 = timings[max(0, round(len(timings) * 0.95) - 1)]
            results.append({"page": label, "p50_ms": statistics.median(timings), "p95_ms": p95})
            print(f"{label}: p50 {results[-1]['p50_ms']:.0f} ms, p95 {p95:.0f} ms", flush=True)
    finally:
        app.extensions["possync"].job_queue.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="large", choices=["small", "medium", "large"])
    parser.add_argument("--requests", type=int, default=20, help="requests per page")
    parser.add_argument(
        "--database-url",
        help="measure this already-synced database instead of importing a store (no import)",
    )
    args = parser.parse_args()
    if args.database_url:
        db = Database(args.database_url, "public")
        rows, import_seconds = count_rows(db), 0.0
        refresh_seconds = time_full_refresh(db)
        results = measure(db, args.requests)
    else:
        with scratch_database() as db:
            rows, import_seconds = import_store(db, args.scale)
            refresh_seconds = time_full_refresh(db)
            results = measure(db, args.requests)
    worst = max(r["p95_ms"] for r in results)
    if args.database_url:
        command = f"--database-url URL --requests {args.requests}"
        imported = "The store was imported before, by `possync sync`, and vacuumed."
    else:
        command = f"--scale {args.scale} --requests {args.requests}"
        imported = (
            f"Import (`possync sync`, its refresh of the rollups included) took "
            f"{import_seconds:.0f} s."
        )
    store = "an already-synced" if args.database_url else f"the {args.scale}"
    lines = [
        f"### Business pages on {store} store ({rows:,} sale rows)",
        "",
        f"Machine: {machine_line()}. Command: `.venv/bin/python -m bench.analytics_pages "
        f"{command}`. {imported} Rebuilding every rollup of the store alone: "
        f"{refresh_seconds:.1f} s.",
        "",
        f"{args.requests} requests per page, one after another, through the Flask app; target "
        f"p95 < {TARGET_MS:.0f} ms.",
        "",
        "| page and range | p50 | p95 |",
        "|---|---:|---:|",
        *(f"| {r['page']} | {r['p50_ms']:,.0f} ms | {r['p95_ms']:,.0f} ms |" for r in results),
        "",
        f"Slowest p95: {worst:,.0f} ms ({'within' if worst < TARGET_MS else 'over'} the target).",
    ]
    write_results(
        "analytics_pages",
        "\n".join(lines) + "\n",
        {
            "scale": args.scale,
            "rows": rows,
            "refresh_seconds": refresh_seconds,
            "worst_p95_ms": worst,
            "pages": results,
        },
    )


if __name__ == "__main__":
    main()
