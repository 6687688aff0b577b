"""A full Lightspeed import against the simulator's rate limit: budget used and 429s.

Lightspeed allows 300 × registers + 50 requests per 5-minute window. At possync's page size
(1000) a whole store needs far fewer requests than one window allows (the historical-import
benchmark prints how many), so this benchmark makes the limit bind on purpose: the small store
(4 registers: 1,250 requests a window), one record per page (about 2,400 requests for the
whole store, twice the budget of a window) and a window shortened from 300 s to `--window`
seconds, so that the run takes two to three windows instead of ten minutes. The import starts
as a window starts (the benchmark watches `X-RateLimit-Remaining` go up), and the simulator's
request count is read at every window boundary.

possync's pacing (`possync.sources.http.Pacing`) assumes Lightspeed's real 300-s window and is
not configurable: in a shorter window it spreads its last fifth of the budget more thinly than
it would against the real API, so the share measured here is, if anything, low.

Reported: requests (the simulator's count, 429s included, and possync's `sync_log`), requests
in each window, the share of the budget used in the windows the import spanned whole and over
its elapsed time (budget per window × elapsed ÷ window), the 429s possync received and the
seconds it waited.

Rerun: .venv/bin/python -m bench.rate_limit              (about 2 minutes)
       .venv/bin/python -m bench.rate_limit --window 300 (the real window: 10–15 minutes)
"""

from __future__ import annotations

import argparse
import itertools
import math
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass

import httpx

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
from possync.db.connection import Database

STORE = "small"
PAGE_SIZE = 1
DEFAULT_WINDOW = 50.0


@dataclass(frozen=True)
class RateLimitResult:
    window_seconds: float
    registers: int
    budget_per_window: int
    seconds: float
    requests_logged: int
    requests_served: int
    per_window: list[int]  # requests served in each window, the last one partial
    rate_limited: int
    waited_seconds: float
    records: int
    failed_entities: int

    @property
    def allowed(self) -> float:
        """What the API allowed over the run's elapsed time."""
        return self.budget_per_window * self.seconds / self.window_seconds

    @property
    def share(self) -> float:
        return self.requests_served / self.allowed

    @property
    def full_window_share(self) -> float | None:
        """Share of the budget used in the windows the import spanned whole (None: none)."""
        full = self.per_window[:-1]
        return sum(full) / (self.budget_per_window * len(full)) if full else None

    def markdown(self, command: str) -> str:
        windows = self.seconds / self.window_seconds
        full = self.full_window_share
        lines = [
            "### Rate limit: full import against the simulator's limit",
            "",
            f"Small store ({self.registers} registers: {self.budget_per_window:,} requests "
            f"per window), a window of {self.window_seconds:g} s (Lightspeed's: 300 s), page_size "
            f"{PAGE_SIZE} so the import needs about two windows' budget. The import starts "
            f"as a window starts. Command: `{command}`.",
            "",
            "| measure | value |",
            "|---|---:|",
            f"| wall time of `possync sync --source lightspeed` | {self.seconds:.1f} s "
            f"({windows:.1f} windows) |",
            f"| records synced (`sync_log`) | {self.records:,} |",
            f"| requests (simulator's count, 429s included) | {self.requests_served:,} |",
            f"| requests (possync's `sync_log`, from its HTTP client) | {self.requests_logged:,} |",
        ]
        for number, used in enumerate(self.per_window, start=1):
            last = number == len(self.per_window)
            label = "the import ended in it" if last else f"{used / self.budget_per_window:.0%}"
            lines.append(f"| requests in window {number} | {used:,} ({label}) |")
        lines += [
            "| **share of the budget used in the whole windows** | "
            + (f"**{full:.0%}** |" if full is not None else "– (the import took < 1 window) |"),
            f"| share of the budget allowed over the elapsed time "
            f"({self.allowed:,.0f} requests) | {self.share:.0%} |",
            f"| **429 responses** | **{self.rate_limited}** |",
            f"| seconds possync waited (pacing and Retry-After) | {self.waited_seconds:.1f} |",
            f"| entities failed | {self.failed_entities} |",
        ]
        return "\n".join(lines)


def register_count(db: Database) -> int:
    with db.connect() as conn:
        row = conn.execute(
            "SELECT count(*) FROM lightspeed_registers WHERE deleted_at IS NULL"
        ).fetchone()
        return int(row[0]) if row else 0


def wait_for_new_window(sim: SimulatorProcess, window_seconds: float) -> None:
    """Return as soon as a rate-limit window starts: probe (one cheap request every 0.1 s, from
    the window before) until `X-RateLimit-Remaining` goes up."""
    previous: int | None = None
    deadline = time.monotonic() + window_seconds + 30
    headers = {"Authorization": f"Bearer {sim.token}"}
    with httpx.Client(base_url=sim.lightspeed_url, headers=headers, timeout=10) as client:
        while time.monotonic() < deadline:
            reply = client.get("/outlets", params={"page_size": 1})
            remaining = int(reply.headers["X-RateLimit-Remaining"])
            if previous is not None and remaining > previous:
                return
            previous = remaining
            time.sleep(0.1)
    raise RuntimeError("no new rate-limit window started: is --rate-limit on?")


def count_per_window(
    sim: SimulatorProcess, started: float, window_seconds: float, done: threading.Event
) -> list[int]:
    """The simulator's request count at each window boundary until `done`; the differences
    are the requests of each window (the last one partial)."""
    marks = [simulator_requests(sim)]
    boundary = started + window_seconds
    while not done.wait(max(boundary - time.perf_counter(), 0)):
        marks.append(simulator_requests(sim))
        boundary += window_seconds
    marks.append(simulator_requests(sim))
    return [after - before for before, after in itertools.pairwise(marks)]


def measure(window_seconds: float = DEFAULT_WINDOW) -> RateLimitResult:
    """One rate-limited full import into a fresh database, started as a window starts."""
    extra = ("--rate-limit", "--rate-limit-window", f"{window_seconds:g}", "--no-square")
    with simulator_process(STORE, extra_args=extra) as sim, scratch_database() as db:
        env = possync_env(db, sim, lightspeed_page_size=str(PAGE_SIZE))
        logged_after = last_sync_log_id(db)
        wait_for_new_window(sim, window_seconds)
        started = time.perf_counter()
        done = threading.Event()
        with ThreadPoolExecutor(1) as pool:
            counting = pool.submit(count_per_window, sim, started, window_seconds, done)
            # A failed entity exits non-zero: it is counted from sync_log, not raised.
            run_measured(possync_command("sync", "--source", "lightspeed"), env, check=False)
            seconds = time.perf_counter() - started
            done.set()
            per_window = counting.result()
        totals = run_totals(db, logged_after)
        registers = register_count(db)
    return RateLimitResult(
        window_seconds=window_seconds,
        registers=registers,
        budget_per_window=300 * registers + 50,
        seconds=seconds,
        requests_logged=totals.requests,
        requests_served=sum(per_window),
        per_window=per_window,
        rate_limited=totals.rate_limited,
        waited_seconds=totals.waited_seconds,
        records=totals.records,
        failed_entities=totals.failed,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--window", type=float, default=DEFAULT_WINDOW, help="window, seconds")
    args = parser.parse_args()
    if not math.isfinite(args.window) or args.window <= 0:
        parser.error("--window must be a positive number of seconds")
    result = measure(args.window)
    command = f".venv/bin/python -m bench.rate_limit --window {args.window:g}"
    text = f"Machine: {machine_line()}.\n\n{result.markdown(command)}\n"
    numbers = {
        **asdict(result),
        "allowed": result.allowed,
        "share": result.share,
        "full_window_share": result.full_window_share,
    }
    write_results("rate_limit", text, numbers)


if __name__ == "__main__":
    main()
