"""A full Lightspeed import against the simulator's rate limit: budget used and 429s.

Lightspeed allows 300 × registers + 50 requests per 5-minute window. At possync's page size
(1000) a whole store needs far fewer requests than one window allows (the historical-import
benchmark prints how many), so this benchmark makes the limit bind on purpose: the small store
(4 registers: 1,250 requests a window), one record per page (about 2,400 requests for the
whole store, twice the budget of a window) and a window shortened from 300 s to
`--window` seconds so that the run takes two to three windows instead of fifteen minutes.
possync's pacing is told the same window (POSSYNC_LIGHTSPEED_RATE_LIMIT_WINDOW_SECONDS).

It reports the requests made (possync's `sync_log` and the simulator's own count, which
include the 429s), the budget the API allowed over the elapsed time (budget per window ×
elapsed ÷ window), the share of it used, the 429s possync received and the seconds it waited.

Rerun: .venv/bin/python -m bench.rate_limit              (about 2 minutes)
       .venv/bin/python -m bench.rate_limit --window 300 (the real window: about 10 minutes)
"""

from __future__ import annotations

import argparse
import math
import time
from dataclasses import asdict, dataclass

from bench.common import (
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
from possync.db import Database

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

    def markdown(self, command: str) -> str:
        windows = self.seconds / self.window_seconds
        return "\n".join(
            [
                "### Rate limit: full import against the simulator's limit",
                "",
                f"Small store ({self.registers} registers: {self.budget_per_window:,} requests "
                f"per window), window shortened to {self.window_seconds:g} s, page_size "
                f"{PAGE_SIZE} so the import needs more than a window's budget. "
                f"Command: `{command}`.",
                "",
                "| measure | value |",
                "|---|---:|",
                f"| wall time of `possync sync --source lightspeed` | {self.seconds:.1f} s "
                f"({windows:.1f} windows) |",
                f"| records stored | {self.records:,} |",
                f"| requests (possync's `sync_log`) | {self.requests_logged:,} |",
                f"| requests (simulator's count) | {self.requests_served:,} |",
                f"| budget allowed over the elapsed time | {self.allowed:,.0f} |",
                f"| **share of the budget used** | **{self.share:.0%}** |",
                f"| **429 responses** | **{self.rate_limited}** |",
                f"| seconds possync waited (pacing and Retry-After) | {self.waited_seconds:.1f} |",
                f"| entities failed | {self.failed_entities} |",
            ]
        )


def register_count(db: Database) -> int:
    with db.connect() as conn:
        row = conn.execute(
            "SELECT count(*) FROM lightspeed_registers WHERE deleted_at IS NULL"
        ).fetchone()
        return int(row[0]) if row else 0


def measure(window_seconds: float = DEFAULT_WINDOW) -> RateLimitResult:
    """One rate-limited full import into a fresh database."""
    extra = ("--rate-limit", "--rate-limit-window", f"{window_seconds:g}", "--no-square")
    with simulator_process(STORE, extra_args=extra) as sim, scratch_database() as db:
        env = possync_env(db, sim, lightspeed_page_size=str(PAGE_SIZE))
        served_before, logged_after = simulator_requests(sim), last_sync_log_id(db)
        started = time.perf_counter()
        # A failed entity exits non-zero: it is counted from sync_log, not raised.
        run_measured(possync_command("sync", "--source", "lightspeed"), env, check=False)
        seconds = time.perf_counter() - started
        served = simulator_requests(sim) - served_before
        totals = run_totals(db, logged_after)
        registers = register_count(db)
    return RateLimitResult(
        window_seconds=window_seconds,
        registers=registers,
        budget_per_window=300 * registers + 50,
        seconds=seconds,
        requests_logged=totals.requests,
        requests_served=served,
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
    numbers = {**asdict(result), "allowed": result.allowed, "share": result.share}
    write_results("rate_limit", text, numbers)


if __name__ == "__main__":
    main()
