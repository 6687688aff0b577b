"""Faults on the wire, malformed records and simultaneous triggers: nothing lost or doubled."""

from __future__ import annotations

from pathlib import Path

import pytest
from bench.trials.harness import (
    LIGHTSPEED,
    SQUARE,
    DatabaseFactory,
    SourceKit,
    TrialCounts,
    observe,
)
from bench.trials.measure import measure
from bench.trials.soak import (
    fault_soak,
    malformed_trials,
    simultaneous_triggers,
    sync_in_process,
)

from possync.db.connection import Database
from possync.simulator import FaultConfig, RunningSimulator

pytestmark = pytest.mark.reliability


@pytest.mark.parametrize("kit", [LIGHTSPEED, SQUARE], ids=lambda kit: kit.name)
def test_fault_soak_over_a_full_import_loses_and_doubles_nothing(
    kit: SourceKit, new_database: DatabaseFactory, tmp_path: Path, counts: TrialCounts
) -> None:
    result = fault_soak(kit, new_database, tmp_path, trials=counts.soaks, seed=4)
    assert result.ok, result.explain()
    for kind in ("error", "reset", "truncate", "rate_limit", "short_page"):
        assert result.faults[kind] > 0, result.explain()


@pytest.mark.parametrize("kit", [LIGHTSPEED, SQUARE], ids=lambda kit: kit.name)
def test_malformed_records_are_quarantined_and_the_rest_stored(
    kit: SourceKit, new_database: DatabaseFactory, tmp_path: Path, counts: TrialCounts
) -> None:
    result = malformed_trials(kit, new_database, tmp_path, trials=counts.malformed, seed=5)
    assert result.ok, result.explain()
    assert sum(result.faults.values()) >= 6, result.explain()


def test_simultaneous_triggers_run_once_and_never_overlap(
    db: Database, ls_sim: RunningSimulator, tmp_path: Path, counts: TrialCounts
) -> None:
    result = simultaneous_triggers(LIGHTSPEED, db, ls_sim, tmp_path, trials=counts.simultaneous)
    assert result.ok, result.explain()


def test_square_short_pages_after_time_travel_miss_nothing(
    db: Database, sq_sim: RunningSimulator, tmp_path: Path
) -> None:
    """Regression: the orders probe (limit 1) took an empty short page for "no orders", so
    the window ended too early and a successful incremental run missed the newest orders.
    With this store and fault seed the first probe answer is empty (it failed before)."""
    assert sync_in_process(SQUARE, db, sq_sim, tmp_path, page_size=100).ok
    sq_sim.simulator.advance(24 * 60)
    sq_sim.simulator.set_faults(FaultConfig(short_page_rate=0.5, seed=3))
    report = sync_in_process(SQUARE, db, sq_sim, tmp_path, page_size=100)
    assert report.ok, [r.error for r in report.failed]
    assert sq_sim.simulator.faults.injected["short_page"] > 0
    with observe(db) as conn:
        tally = measure(conn, "square", SQUARE.truth(sq_sim))
    assert tally.clean, tally.details
