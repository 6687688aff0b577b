"""Field hardening: PostgreSQL restarted again and again under `possync serve`."""

from __future__ import annotations

from pathlib import Path

import pytest
from bench.trials.field import serve_restart_trials
from bench.trials.harness import LIGHTSPEED, TrialCounts
from bench.trials.pgserver import RestartableServer

from possync.simulator import RunningSimulator

pytestmark = pytest.mark.reliability


def test_serve_runs_every_job_across_postgres_restarts(
    restartable_server: RestartableServer,
    ls_sim: RunningSimulator,
    tmp_path: Path,
    counts: TrialCounts,
) -> None:
    before = restartable_server.restarts
    result = serve_restart_trials(
        LIGHTSPEED, restartable_server, ls_sim, tmp_path, restarts=counts.serve_restarts, seed=5
    )
    assert result.ok, result.explain()
    assert restartable_server.restarts - before == result.trials == counts.serve_restarts
    assert result.tally.checked > 200  # products, customers and more, every record compared
