"""Field section: out-of-range and undecodable records are quarantined while their pages
load (scaled with POSSYNC_RELIABILITY_TRIALS, like the rest of the suite)."""

from __future__ import annotations

from pathlib import Path

import pytest
from bench.trials.bad_values import BAD_FIELDS, bad_value_trials, trials_for
from bench.trials.harness import DatabaseFactory, TrialCounts

pytestmark = pytest.mark.reliability


def test_out_of_range_and_undecodable_records_are_quarantined_while_pages_load(
    new_database: DatabaseFactory, tmp_path: Path, counts: TrialCounts
) -> None:
    result = bad_value_trials(new_database, tmp_path, trials=trials_for(counts), seed=12)
    assert result.ok, result.explain()
    assert result.tally.checked >= result.trials * 120, result.explain()
    assert sum(result.faults.values()) >= result.trials, result.explain()
    if result.trials >= 4:  # enough draws to meet every kind
        assert set(result.faults) == set(BAD_FIELDS), result.explain()
