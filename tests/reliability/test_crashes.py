"""kill -9 at random moments and PostgreSQL restarted mid-run: nothing lost, nothing doubled."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from bench.trials.crash import kill_trials, restart_trials
from bench.trials.harness import (
    FAST_RETRY,
    LIGHTSPEED,
    SQUARE,
    SyncProcess,
    TrialCounts,
    observe,
    one_line_error,
)
from bench.trials.measure import measure
from bench.trials.pgserver import RestartableServer
from bench.trials.soak import sync_in_process
from bench.trials.square_truth import assert_square_matches_truth
from bench.trials.truth import assert_lightspeed_matches_truth

from possync.db.connection import Database
from possync.engine.run import SyncRequest, run_sync
from possync.simulator import RunningSimulator
from possync.sources.square import SquareSource

pytestmark = pytest.mark.reliability


def test_lightspeed_killed_again_and_again_ends_equal_to_truth(
    db: Database, ls_sim: RunningSimulator, tmp_path: Path, counts: TrialCounts
) -> None:
    result = kill_trials(LIGHTSPEED, db, ls_sim, tmp_path, trials=counts.kills, seed=1)
    assert result.ok, result.explain()
    assert result.faults["SIGKILL mid-walk"] >= 1, result.explain()
    with observe(db) as conn:
        assert_lightspeed_matches_truth(conn, LIGHTSPEED.truth(ls_sim))


def test_square_killed_again_and_again_ends_equal_to_truth(
    db: Database, sq_sim: RunningSimulator, tmp_path: Path, counts: TrialCounts
) -> None:
    result = kill_trials(SQUARE, db, sq_sim, tmp_path, trials=max(2, counts.kills // 2), seed=2)
    assert result.ok, result.explain()
    assert result.faults["SIGKILL mid-walk"] >= 1, result.explain()
    with observe(db) as conn:
        assert_square_matches_truth(conn, SQUARE.truth(sq_sim))


def test_database_restarted_mid_run_fails_in_one_line_then_resumes(
    restartable_server: RestartableServer,
    ls_sim: RunningSimulator,
    tmp_path: Path,
    counts: TrialCounts,
) -> None:
    result = restart_trials(
        LIGHTSPEED, restartable_server, ls_sim, tmp_path, trials=counts.restarts, seed=3
    )
    assert result.ok, result.explain()
    assert restartable_server.restarts == counts.restarts


class _InventoryOutage(httpx.BaseTransport):
    """Real HTTP, except that inventory requests after the first `allowed` answer 503."""

    def __init__(self, allowed: int) -> None:
        self.inner = httpx.HTTPTransport()
        self.allowed = allowed

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/inventory/counts/batch-retrieve"):
            if self.allowed <= 0:
                return httpx.Response(503, json={"errors": []})
            self.allowed -= 1
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


def test_square_run_resumed_days_later_misses_no_change(
    db: Database, sq_sim: RunningSimulator, tmp_path: Path
) -> None:
    """Regression: a windowed Square run with an open end (inventory counts, one query per
    location) interrupted mid-way and resumed days later promoted the watermark to the newest
    change seen after resuming, so changes made meanwhile at the locations it had finished
    were never read."""
    assert sync_in_process(SQUARE, db, sq_sim, tmp_path).ok
    sq_sim.simulator.advance(24 * 60)
    settings = SQUARE.settings(db, tmp_path, sq_sim)
    inventory = SyncRequest("square", entities=("inventory_counts",))
    source = SquareSource(settings, transport=_InventoryOutage(allowed=3), retry=FAST_RETRY)
    try:
        interrupted = run_sync(settings, db, inventory, source=source)
    finally:
        source.close()
    assert not interrupted.ok
    with observe(db) as conn:
        row = conn.execute(
            """SELECT (run_cursor->>'index')::int FROM sync_state
               WHERE source = 'square' AND entity_type = 'inventory_counts'"""
        ).fetchone()
    assert row is not None and row[0] >= 1, "the run stopped after finishing a location"
    sq_sim.simulator.advance(2 * 24 * 60)  # longer than the inventory lookback (24 hours)
    assert sync_in_process(SQUARE, db, sq_sim, tmp_path, inventory).ok  # resumes
    assert sync_in_process(SQUARE, db, sq_sim, tmp_path).ok
    with observe(db) as conn:
        tally = measure(conn, "square", SQUARE.truth(sq_sim))
    assert tally.clean, tally.details


# The backend ends itself in the middle of the page's pipelined cursor advance.
DIE_IN_CURSOR_ADVANCE = """
CREATE FUNCTION reliability_die() RETURNS trigger LANGUAGE plpgsql AS
$$ BEGIN PERFORM pg_terminate_backend(pg_backend_pid()); RETURN NEW; END $$;
CREATE TRIGGER reliability_die BEFORE UPDATE ON sync_state FOR EACH ROW
WHEN (OLD.last_version IS DISTINCT FROM NEW.last_version) EXECUTE FUNCTION reliability_die();
"""


def test_connection_lost_inside_the_commit_pipeline_is_one_line(
    db: Database, ls_sim: RunningSimulator, tmp_path: Path
) -> None:
    """Regression: a connection lost inside the page's pipelined cursor advance and COMMIT
    made psycopg log a warning about the pipeline it could not close, so the user saw more
    than the one-line error."""
    with observe(db) as conn:
        conn.execute(DIE_IN_CURSOR_ADVANCE)
    process = SyncProcess(LIGHTSPEED.environment(db, tmp_path, ls_sim), "lightspeed", tmp_path)
    assert process.wait(60) == 1
    assert one_line_error(process) is None, process.stderr
    assert process.stderr.startswith(f"error: cannot connect to PostgreSQL at {db.display}")
