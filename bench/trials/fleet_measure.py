"""What one cycle of the many-shops benchmark costs and how fresh it leaves each shop.

- CPU: a process's own time plus its reaped children's plus its live descendants', so
  PostgreSQL backends that came and went (one per connection) and writer processes count.
- Connections (`pg_stat_activity`, client backends) and worker memory (RSS of each worker and
  its children) are sampled every `SAMPLE_SECONDS` on a thread while the cycle runs.
- Freshness of a shop: when its last sync of the cycle finished (`sync_log.finished_at` in its
  schema) minus the cycle's start; jobs' start and end come from procrastinate's events.
"""

from __future__ import annotations

import contextlib
import statistics
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import psutil
from psycopg import sql

from possync.db.connection import Database

SAMPLE_SECONDS = 0.25


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds of a process, its reaped children and its live descendants (0 if gone)."""
    try:
        process = psutil.Process(pid)
        times = process.cpu_times()
        total = float(times.user + times.system + times.children_user + times.children_system)
        children = process.children()
    except psutil.Error:
        return 0.0
    return total + sum(tree_cpu_seconds(child.pid) for child in children)


def tree_rss_bytes(pid: int) -> int:
    total = 0
    with contextlib.suppress(psutil.Error):
        process = psutil.Process(pid)
        for member in (process, *process.children(recursive=True)):
            with contextlib.suppress(psutil.Error):
                total += int(member.memory_info().rss)
    return total


def postmaster_pid(pgdata: Path) -> int:
    return int((pgdata / "postmaster.pid").read_text().splitlines()[0])


@dataclass
class CpuMeter:
    """CPU seconds of named process groups between `start()` and `stop()`."""

    groups: dict[str, list[int]]
    used: dict[str, float] = field(default_factory=dict)
    _before: dict[str, float] = field(default_factory=dict)

    def _now(self) -> dict[str, float]:
        return {name: sum(map(tree_cpu_seconds, pids)) for name, pids in self.groups.items()}

    def start(self) -> None:
        self._before = self._now()

    def stop(self) -> dict[str, float]:
        after = self._now()
        self.used = {name: after[name] - self._before[name] for name in after}
        return self.used


class Sampler:
    """Samples PostgreSQL's client connections and each worker's RSS on a thread."""

    def __init__(self, db: Database, worker_pids: list[int]) -> None:
        self.db = db
        self.worker_pids = worker_pids
        self.connections: list[int] = []
        self.peak_rss: dict[int, int] = dict.fromkeys(worker_pids, 0)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="fleet-sampler", daemon=True)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)

    def _run(self) -> None:
        with self.db.connect() as conn:
            conn.autocommit = True
            while not self._stop.wait(SAMPLE_SECONDS):
                row = conn.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'"
                    " AND pid <> pg_backend_pid()"
                ).fetchone()
                self.connections.append(int(row[0]) if row else 0)
                for pid in self.worker_pids:
                    self.peak_rss[pid] = max(self.peak_rss[pid], tree_rss_bytes(pid))

    def summary(self) -> dict[str, float]:
        seen = self.connections or [0]
        return {
            "connections_max": max(seen),
            "connections_mean": statistics.fmean(seen),
            "worker_rss_max_mib": max(self.peak_rss.values(), default=0) / 2**20,
        }


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile (share 0.5 = median); nan for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, round(share * len(ordered) + 0.4999))
    return ordered[min(rank, len(ordered)) - 1]


def spread(values: list[float]) -> dict[str, float]:
    return {
        "p50": percentile(values, 0.5),
        "p95": percentile(values, 0.95),
        "max": max(values, default=float("nan")),
    }


def jobs_pending(db: Database, job_ids: list[int]) -> int:
    """Jobs of `job_ids` still waiting, running or waiting for a retry."""
    with db.connect() as conn:
        row = conn.execute(
            "SELECT count(*) FROM procrastinate_jobs WHERE id = ANY(%s)"
            " AND status IN ('todo', 'doing')",
            (job_ids,),
        ).fetchone()
    return int(row[0]) if row else 0


def wait_for_jobs(db: Database, job_ids: list[int], timeout: float) -> float | None:
    """Seconds until every job of `job_ids` is done (None: still pending after `timeout`)."""
    began = time.perf_counter()
    while jobs_pending(db, job_ids):
        if time.perf_counter() - began > timeout:
            return None
        time.sleep(0.5)
    return time.perf_counter() - began


def job_walls(db: Database, job_ids: list[int]) -> dict[str, float]:
    """Seconds each shop's jobs ran (first start to last end, summed per shop)."""
    with db.connect() as conn:
        rows = conn.execute(
            """SELECT j.args->>'shop',
                      extract(epoch FROM max(e.at) FILTER (WHERE e.type IN
                          ('succeeded', 'failed', 'deferred_for_retry'))
                        - min(e.at) FILTER (WHERE e.type = 'started'))
               FROM procrastinate_jobs j JOIN procrastinate_events e ON e.job_id = j.id
               WHERE j.id = ANY(%s) AND j.status = 'succeeded'
               GROUP BY j.id""",
            (job_ids,),
        ).fetchall()
    walls: dict[str, float] = {}
    for shop, seconds in rows:
        if seconds is not None:
            walls[shop] = walls.get(shop, 0.0) + float(seconds)
    return walls


def job_states(db: Database, job_ids: list[int]) -> dict[str, list[str]]:
    """Each shop's jobs' statuses (with attempts), e.g. {'s002': ['doing/1', 'succeeded/1']}."""
    with db.connect() as conn:
        rows = conn.execute(
            "SELECT args->>'shop', status::text, attempts FROM procrastinate_jobs"
            " WHERE id = ANY(%s) ORDER BY id",
            (job_ids,),
        ).fetchall()
    states: dict[str, list[str]] = {}
    for shop, status, attempts in rows:
        states.setdefault(shop, []).append(f"{status}/{attempts}")
    return states


def freshness(db: Database, schemas: dict[str, str], started: datetime) -> dict[str, Any]:
    """Per shop: seconds from `started` to its last completed run's finish, or None when a
    run of the cycle failed or none completed."""
    ages: dict[str, Any] = {}
    with db.connect() as conn:
        for shop, schema in schemas.items():
            row = conn.execute(
                sql.SQL(
                    "SELECT extract(epoch FROM max(finished_at) - %s),"
                    " count(*) FILTER (WHERE status <> 'completed'), count(*)"
                    " FROM {}.sync_log WHERE timestamp >= %s"
                ).format(sql.Identifier(schema)),
                (started, started),
            ).fetchone()
            ok = row is not None and row[0] is not None and row[1] == 0 and row[2] > 0
            ages[shop] = float(row[0]) if ok and row is not None else None
    return ages
