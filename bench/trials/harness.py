"""What the reliability scenarios share: per-source settings, `possync sync` as a child
process that can be killed, database polling, and the result of a scenario."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import psycopg
from psycopg import sql

from bench.trials.measure import Tally
from possync.config.settings import Settings, load_settings
from possync.db.connection import Database
from possync.simulator import RunningSimulator, SimulatorConfig
from possync.sources.base import Source
from possync.sources.http import RetryPolicy

# Retries for in-process runs: the same logic, without seconds of backoff.
FAST_RETRY = RetryPolicy(max_attempts=15, base_delay=0.01, max_delay=0.05, max_retry_after=0.05)
# Our own connections are named apart from possync's, so "is a sync still connected" works.
OBSERVER = "possync-reliability"

DatabaseFactory = Callable[[], AbstractContextManager[Database]]


@dataclass(frozen=True)
class SourceKit:
    """How the scenarios drive one source."""

    name: str
    deep_entity: str  # the big stream: kills aimed at its pages land mid-walk
    page_size: int  # small pages: many commits, many moments to crash between
    # Under faults: many requests, yet few enough pages that a query whose cursor expires
    # (Square restarts some queries from their beginning) still gets through.
    soak_page_size: int

    def simulator_config(self, seed: int, **overrides: Any) -> SimulatorConfig:
        """A store of this source only."""
        values: dict[str, Any] = {
            "seed": seed,
            "lightspeed": self.name == "lightspeed",
            "square": self.name == "square",
        }
        values.update(overrides)
        return SimulatorConfig(**values)

    def setting_values(self, sim: RunningSimulator, page_size: int | None = None) -> dict[str, Any]:
        """Settings (by field name) pointing possync at the simulator."""
        size = page_size or self.page_size
        if self.name == "lightspeed":
            return {
                "lightspeed_url": sim.lightspeed_url,
                "lightspeed_token": sim.token,
                "lightspeed_page_size": size,
            }
        return {"square_url": sim.square_url, "square_token": sim.token, "square_page_limit": size}

    def environment(self, db: Database, data_dir: Path, sim: RunningSimulator) -> dict[str, str]:
        """A child process's environment: no developer POSSYNC_ variable, only ours."""
        return child_environment(
            POSSYNC_DATABASE_URL=db.url,
            POSSYNC_DATA_DIR=str(data_dir),
            **{f"POSSYNC_{k.upper()}": str(v) for k, v in self.setting_values(sim).items()},
        )

    def settings(
        self, db: Database, data_dir: Path, sim: RunningSimulator, **overrides: Any
    ) -> Settings:
        values = self.setting_values(sim, overrides.pop("page_size", None))
        values.update(overrides)
        return trial_settings(db, data_dir, **values)

    def open_source(self, settings: Settings) -> Source:
        """The source with fast retries, for in-process runs."""
        if self.name == "lightspeed":
            from possync.sources.lightspeed import LightspeedSource

            return LightspeedSource(settings, retry=FAST_RETRY)
        from possync.sources.square import SquareSource

        source: Source = SquareSource(settings, retry=FAST_RETRY)
        return source

    def truth(self, sim: RunningSimulator) -> dict[str, Any]:
        expected: dict[str, Any] = sim.simulator.truth()[self.name]
        return expected


LIGHTSPEED = SourceKit("lightspeed", deep_entity="sales", page_size=20, soak_page_size=25)
SQUARE = SourceKit("square", deep_entity="orders", page_size=25, soak_page_size=100)
KITS = {kit.name: kit for kit in (LIGHTSPEED, SQUARE)}


@dataclass
class ScenarioResult:
    """One row of the reliability table."""

    scenario: str
    source: str
    trials: int = 0
    faults: Counter[str] = field(default_factory=Counter)
    tally: Tally = field(default_factory=Tally)
    problems: list[str] = field(default_factory=list)  # anything else that must not happen
    seconds: float = 0.0
    records: bool = True  # False: the scenario compares no records (the secret scan)
    notes: list[str] = field(default_factory=list)  # worth knowing, not a failure

    @property
    def ok(self) -> bool:
        return self.tally.clean and not self.problems

    def explain(self) -> str:
        return (
            f"{self.scenario}/{self.source}: {self.trials} trials, faults {dict(self.faults)}, "
            f"lost {self.tally.lost}, duplicated {self.tally.duplicated}, "
            f"mismatched {self.tally.mismatched}; {self.tally.details[:5]} {self.problems[:5]}"
            + (f"; notes: {self.notes}" if self.notes else "")
        )


def trial_settings(db: Database, data_dir: Path, **values: Any) -> Settings:
    """Settings for a trial: only what it passes, nothing from the developer's environment."""
    return load_settings(database_url=db.url, data_dir=data_dir, _env_file=None, **values)


def server_log(server: Database) -> Path | None:
    """The embedded server's log file (it lives in the data dir, which is the socket dir)."""
    host = parse_qs(urlsplit(server.url).query).get("host")
    return Path(host[0]) / "log" if host else None


def child_environment(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("POSSYNC_")}
    env.update(values)
    return env


@contextmanager
def observe(db: Database) -> Iterator[psycopg.Connection[Any]]:
    """An autocommit connection that is not mistaken for a sync's."""
    with psycopg.connect(db.url, autocommit=True, application_name=OBSERVER) as conn:
        conn.execute(sql.SQL("SET search_path TO {}, public").format(sql.Identifier(db.schema)))
        yield conn


def wait_until_no_sync_connected(db: Database, timeout: float = 30.0) -> None:
    """A killed process's backend ends (and drops its advisory locks) a moment later."""
    deadline = time.monotonic() + timeout
    with observe(db) as conn:
        while time.monotonic() < deadline:
            row = conn.execute(
                """SELECT count(*) FROM pg_stat_activity
                   WHERE datname = current_database() AND application_name = 'possync'"""
            ).fetchone()
            if row == (0,):
                return
            time.sleep(0.02)
    raise AssertionError("a killed sync's connection stayed open")


def last_log_id(db: Database) -> int:
    with observe(db) as conn:
        row = conn.execute("SELECT coalesce(max(id), 0) FROM sync_log").fetchone()
    return int(row[0]) if row else 0


def committed_pages(conn: psycopg.Connection[Any], source: str, after_log_id: int) -> int:
    """Pages committed by runs that began after `after_log_id` (children share the count)."""
    row = conn.execute(
        """SELECT coalesce(sum(pages), 0) FROM (
               SELECT max(coalesce((metadata->>'pages')::int, 0)) AS pages FROM sync_log
               WHERE id > %s AND source = %s GROUP BY run_id) runs""",
        (after_log_id, source),
    ).fetchone()
    return int(row[0]) if row else 0


class SyncProcess:
    """`python -m possync sync --source S` in a child process, output kept in files."""

    def __init__(self, env: dict[str, str], source: str, work_dir: Path, *args: str) -> None:
        work_dir.mkdir(parents=True, exist_ok=True)
        self.stdout_path = work_dir / "stdout.txt"
        self.stderr_path = work_dir / "stderr.txt"
        with self.stdout_path.open("wb") as out, self.stderr_path.open("wb") as err:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "possync", "sync", "--source", source, *args],
                env=env,
                cwd=work_dir,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
            )

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> bool:
        """SIGKILL now; True if it was still running (the kill landed)."""
        alive = self.running
        if alive:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(30)
        return alive

    def wait(self, timeout: float) -> int:
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise

    @property
    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    @property
    def stdout(self) -> str:
        return self.stdout_path.read_text(errors="replace")

    def wait_for_pages(
        self, db: Database, source: str, after_log_id: int, pages: int, timeout: float = 120.0
    ) -> int:
        """Until `pages` pages are committed or the process ends; the pages seen."""
        deadline = time.monotonic() + timeout
        seen = 0
        with observe(db) as conn:
            while self.running and time.monotonic() < deadline:
                seen = committed_pages(conn, source, after_log_id)
                if seen >= pages:
                    break
                time.sleep(0.01)
        return seen


def run_to_completion(
    env: dict[str, str], source: str, work_dir: Path, timeout: float = 300.0
) -> SyncProcess:
    """A sync that nobody interrupts."""
    process = SyncProcess(env, source, work_dir)
    process.wait(timeout)
    return process


def one_line_error(process: SyncProcess) -> str | None:
    """None when a failed run said what went wrong in one `error: …` line and nothing else
    on stderr; otherwise what it printed instead."""
    lines = [line for line in process.stderr.splitlines() if line.strip()]
    if len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in lines[0]:
        return None
    return " | ".join(lines[-6:]) or "(nothing on stderr)"


@dataclass(frozen=True)
class TrialCounts:
    """How many trials each scenario runs for a given number of kill trials."""

    kills: int

    @property
    def restarts(self) -> int:
        return max(2, self.kills // 5)

    @property
    def serve_restarts(self) -> int:
        """PostgreSQL restarts under one `serve`: 3 bounded, 20 in the full form."""
        return min(20, max(3, self.kills // 2))

    @property
    def soaks(self) -> int:
        return max(1, self.kills // 10)

    @property
    def malformed(self) -> int:
        return max(1, self.kills // 10)

    @property
    def simultaneous(self) -> int:
        return max(1, self.kills // 10)
