"""Dashboard latency under load: 50 concurrent clients, one million `sync_log` rows.

A small store is imported for real (so `sync_state` and the cards are genuine), then one
`INSERT … SELECT generate_series` adds a million runs to `sync_log` (a year of runs of every
entity, 2 % failed, a few left `started` by crashed processes). `possync serve --no-worker`
serves that database on 127.0.0.1 in its own process (waitress, as in production); the
benchmark logs in through the login form, and locust (headless, its own process) drives one
path with 50 clients that ask again as soon as they get an answer. Reported: requests per
second and the p50/p95/p99 latency of the overview (`/`) and of `/api/status` (what an open
overview polls every two seconds), with the default status cache; then 50 clients polling
`/api/status` every two seconds as open overview pages do; then the same paths with the cache
off (POSSYNC_STATUS_CACHE_SECONDS=0: every request queries the million rows), and one client
alone with the cache off (what one uncached request costs without a queue).

Rerun: .venv/bin/python -m bench.dashboard_load             (about 3 minutes)
       .venv/bin/python -m bench.dashboard_load --seconds 60 --clients 100
"""

from __future__ import annotations

import argparse
import csv
import re
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx

from bench.common import (
    ROOT,
    clean_env,
    count_rows,
    free_port,
    machine_line,
    possync_command,
    possync_env,
    run_measured,
    scratch_database,
    simulator_process,
    write_results,
)
from possync.db.connection import Database
from possync.sources.registry import entities_for

SYNC_LOG_ROWS = 1_000_000
PATHS = ("/", "/api/status")
POLL_SECONDS = 2.0
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass(frozen=True)
class LoadResult:
    path: str
    cache: str
    clients: int
    pause: float
    requests: int
    failures: int
    per_second: float
    p50_ms: float
    p95_ms: float
    p99_ms: float

    def row(self) -> str:
        return (
            f"| `{self.path}` | {self.cache} | {self.clients} | {self.pause:g} s | "
            f"{self.requests:,} | "
            f"{self.failures} | "
            f"{self.per_second:,.0f} | {self.p50_ms:,.0f} | {self.p95_ms:,.0f} | "
            f"{self.p99_ms:,.0f} |"
        )


def fill_sync_log(db: Database, rows: int) -> float:
    """Add `rows` finished runs to `sync_log` in one statement; returns the seconds it took."""
    entities = list(entities_for("lightspeed"))
    started = time.perf_counter()
    with db.connect() as conn:
        conn.execute(
            """INSERT INTO sync_log (run_id, source, "timestamp", entity_type, action, status,
                                     duration_seconds, records_processed, error_details,
                                     metadata, finished_at)
               SELECT gen_random_uuid(), 'lightspeed', at, (%(entities)s::text[])[1 + g %% %(n)s],
                      CASE WHEN g %% 500 = 0 THEN 'historical_import'
                           ELSE 'incremental_sync' END,
                      CASE WHEN g %% 9973 = 0 THEN 'started'
                           WHEN g %% 50 = 0 THEN 'failed' ELSE 'completed' END,
                      CASE WHEN g %% 9973 = 0 THEN NULL ELSE (g %% 600) / 10.0 END,
                      g %% 1000,
                      CASE WHEN g %% 50 = 0 AND g %% 9973 <> 0
                           THEN 'GET /sales: HTTP 503 (gave up after 8 attempts)' END,
                      jsonb_build_object('pages', 1 + g %% 3, 'requests', 2 + g %% 3,
                                         'retries', 0, 'rate_limited', 0,
                                         'waited_seconds', 0, 'quarantined', 0),
                      CASE WHEN g %% 9973 = 0 THEN NULL
                           ELSE at + (g %% 600) / 10.0 * interval '1 second' END
               FROM generate_series(1, %(rows)s) AS g,
                    LATERAL (SELECT now() - interval '1 hour' - g * interval '30 seconds') AS t(at)
            """,
            {"entities": entities, "n": len(entities), "rows": rows},
        )
        conn.commit()
        conn.execute("ANALYZE sync_log")
    return time.perf_counter() - started


@contextmanager
def dashboard(db: Database, env: dict[str, str]) -> Iterator[str]:
    """`possync serve --no-worker` on a free 127.0.0.1 port; yields its base URL."""
    port = free_port()
    process = subprocess.Popen(
        [*possync_command("serve", "--no-worker", "--host", "127.0.0.1", "--port", str(port))],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError("`possync serve` exited early")
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("`possync serve` did not answer /healthz within 60 s")
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(30)


def log_in(url: str, password: str) -> str:
    """Log in through the real form; returns the `Cookie` header of the session."""
    with httpx.Client(base_url=url, timeout=10) as client:
        form = client.get("/login")
        match = CSRF_FIELD.search(form.text)
        if match is None:
            raise RuntimeError("the login page has no CSRF token")
        reply = client.post("/login", data={"password": password, "csrf_token": match.group(1)})
        if reply.status_code != 302:
            raise RuntimeError(f"login failed: HTTP {reply.status_code}")
        cookie = client.cookies.get("possync_session")
        if not cookie or client.get("/api/status").status_code != 200:
            raise RuntimeError("login did not give a working session")
        return f"possync_session={cookie}"


def drive(
    url: str, path: str, cookie: str, clients: int, seconds: int, cache: str, pause: float = 0.0
) -> LoadResult:
    """Run locust headless against `path`, each client pausing `pause` seconds between
    requests; statistics from when all clients have started."""
    locustfile = Path(__file__).with_name("locustfile.py")
    env = clean_env()
    env["BENCH_DASHBOARD_PATH"] = path
    env["BENCH_DASHBOARD_COOKIE"] = cookie
    env["BENCH_DASHBOARD_WAIT"] = str(pause)
    with tempfile.TemporaryDirectory(prefix="possync-locust-") as tmp:
        prefix = Path(tmp) / "run"
        subprocess.run(
            [
                *(sys.executable, "-m", "locust", "-f", str(locustfile), "--headless"),
                *("--host", url, "-u", str(clients), "-r", str(clients)),
                *("--run-time", f"{seconds}s", "--reset-stats", "--only-summary"),
                *("--csv", str(prefix), "--loglevel", "WARNING", "--exit-code-on-error", "0"),
            ],
            env=env,
            cwd=ROOT,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        with open(f"{prefix}_stats.csv", newline="") as handle:
            total = next(row for row in csv.DictReader(handle) if row["Name"] == "Aggregated")
    return LoadResult(
        path=path,
        cache=cache,
        clients=clients,
        pause=pause,
        requests=int(total["Request Count"]),
        failures=int(total["Failure Count"]),
        per_second=float(total["Requests/s"]),
        p50_ms=float(total["50%"]),
        p95_ms=float(total["95%"]),
        p99_ms=float(total["99%"]),
    )


def measure(clients: int = 50, seconds: int = 20) -> tuple[float, int, list[LoadResult]]:
    """(seconds to insert the million rows, rows in sync_log, one result per path and cache)."""
    password = secrets.token_urlsafe(16)
    results: list[LoadResult] = []
    with simulator_process("small", extra_args=("--no-square",)) as sim, scratch_database() as db:
        env = possync_env(db, sim, dashboard_password=password)
        run_measured(possync_command("sync", "--source", "lightspeed"), env)
        fill_seconds = fill_sync_log(db, SYNC_LOG_ROWS)
        log_rows = count_rows(db, ("sync_log",))
        for cache, cache_seconds in (("default (30 s)", None), ("off", "0")):
            server_env = dict(env, POSSYNC_SECRET_KEY=secrets.token_urlsafe(32))
            if cache_seconds is not None:
                server_env["POSSYNC_STATUS_CACHE_SECONDS"] = cache_seconds
            with dashboard(db, server_env) as url:
                cookie = log_in(url, password)
                for path in PATHS:
                    results.append(drive(url, path, cookie, clients, seconds, cache))
                if cache_seconds is None:  # open overview pages poll /api/status every 2 s
                    results.append(
                        drive(url, "/api/status", cookie, clients, seconds, cache, POLL_SECONDS)
                    )
                else:  # one client alone: what a request costs without any queue
                    results.append(drive(url, "/api/status", cookie, 1, seconds, cache))
    return fill_seconds, log_rows, results


def markdown(
    clients: int, seconds: int, fill_seconds: float, log_rows: int, results: list[LoadResult]
) -> str:
    command = f".venv/bin/python -m bench.dashboard_load --clients {clients} --seconds {seconds}"
    return "\n".join(
        [
            f"### Dashboard under load: {clients} clients, {log_rows:,} `sync_log` rows",
            "",
            f"`possync serve --no-worker` (waitress) on 127.0.0.1; locust, headless, {clients} "
            f"clients, {seconds} s per row after all started. A client that pauses 0 s asks "
            f"again as soon as it is answered (the server saturated); one that pauses "
            f"{POLL_SECONDS:g} s is an open overview page polling. "
            f"The million rows went in with one `INSERT … SELECT generate_series` in "
            f"{fill_seconds:.0f} s. Command: `{command}`.",
            "",
            "| path | status cache | clients | each client pauses | requests | failed "
            "| requests/s | p50 ms | p95 ms | p99 ms |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
            *(result.row() for result in results),
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=20, help="load per path and cache setting")
    args = parser.parse_args()
    fill_seconds, log_rows, results = measure(args.clients, args.seconds)
    text = f"Machine: {machine_line()}.\n\n"
    text += markdown(args.clients, args.seconds, fill_seconds, log_rows, results) + "\n"
    numbers = {
        "clients": args.clients,
        "sync_log_rows": log_rows,
        "runs": [asdict(result) for result in results],
    }
    write_results("dashboard_load", text, numbers)


if __name__ == "__main__":
    main()
