"""A backfill is never silently ignored: Lightspeed's API lists by version, not by date, so
`--since/--until` on Lightspeed is refused with one line that says to use `--full`, before
anything is read or logged; Square's order backfill is tested in tests/engine."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from possync.db.connection import Database
from possync.engine.run import SyncRequest, run_sync
from possync.simulator import SimulatorConfig, running_simulator
from possync.sources.lightspeed import LightspeedSource
from tests.conftest import make_settings
from tests.support.cli import RunPossync
from tests.support.environment import environment_for

REFUSAL = (
    "error: Lightspeed cannot backfill a date range (its API lists by version, not by date): "
    "use `possync sync --source lightspeed --full` to re-read every record from the start"
)
NOWHERE = "http://127.0.0.1:9/api/2.0"  # never asked: the refusal comes first


@pytest.mark.parametrize(
    "args",
    [
        ("--source", "lightspeed", "--since", "2026-03-01", "--until", "2026-03-01"),
        ("--source", "lightspeed", "--entity", "sales", "--since", "2026-03-01"),
        ("--until", "2026-03-01"),  # only Lightspeed configured
        ("--source", "lightspeed", "--source", "square", "--since", "2026-03-01"),
    ],
)
def test_lightspeed_backfill_is_refused_in_one_line(
    possync_cli: RunPossync, db: Database, tmp_path: Path, args: tuple[str, ...]
) -> None:
    env = environment_for(
        db,
        tmp_path,
        POSSYNC_LIGHTSPEED_URL=NOWHERE,
        POSSYNC_LIGHTSPEED_TOKEN="backfill-token",
    )
    result = possync_cli("sync", *args, env=env)
    assert result.returncode == 1, result.explain()
    assert result.stderr_lines == [REFUSAL], result.explain()
    with db.connect() as conn:
        row = conn.execute("SELECT count(*) FROM sync_log").fetchone()
    assert row == (0,)


def test_run_sync_refuses_a_lightspeed_backfill_instead_of_completing_it(
    db: Database, tmp_path: Path
) -> None:
    """Through the engine (a job, a script): the entity fails with the same line and not one
    request is made. It used to log a completed backfill of 0 rows."""
    with running_simulator(SimulatorConfig(seed=3, scale="small", square=False)) as sim:
        settings = make_settings(
            db, tmp_path, lightspeed_url=sim.lightspeed_url, lightspeed_token=sim.token
        )
        source = LightspeedSource(settings)
        day = date(2026, 3, 1)
        try:
            request = SyncRequest("lightspeed", ("sales",), since=day, until=day)
            report = run_sync(settings, db, request, source=source)
        finally:
            source.close()
        assert sim.simulator.stats().get("lightspeed", 0) == 0
    (result,) = report.results
    assert result.status == "failed"
    assert result.error == REFUSAL.removeprefix("error: ")
    assert result.records == 0
