"""`possync reconcile` over the right days: "today" is the POS's today (the simulated store's
clock, a month behind this machine's), and a window with no sales says nothing was compared
instead of claiming a match."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from possync.config.settings import Settings
from possync.db.connection import Database
from possync.engine.reconcile import reconcile
from possync.engine.run import SyncRequest, run_sync
from possync.simulator import RunningSimulator, SimulatorConfig, running_simulator
from tests.conftest import make_settings
from tests.support.environment import possync_environment


@pytest.fixture
def synced(db: Database, tmp_path: Path) -> Iterator[tuple[Settings, RunningSimulator]]:
    with running_simulator(SimulatorConfig(seed=11, scale="small", square=False)) as sim:
        settings = make_settings(
            db, tmp_path, lightspeed_url=sim.lightspeed_url, lightspeed_token=sim.token
        )
        assert run_sync(settings, db, SyncRequest("lightspeed")).ok
        yield settings, sim


def _store_today(sim: RunningSimulator) -> date:
    truth: dict[str, Any] = sim.simulator.truth()["lightspeed"]
    return max(date.fromisoformat(day["date"]) for day in truth["daily"])


def _reconcile_cli(db: Database, sim: RunningSimulator, tmp_path: Path, *args: str) -> Any:
    env = {
        **possync_environment(),
        "POSSYNC_DATABASE_URL": db.url,
        "POSSYNC_DATA_DIR": str(tmp_path),
        "POSSYNC_LIGHTSPEED_URL": sim.lightspeed_url,
        "POSSYNC_LIGHTSPEED_TOKEN": sim.token,
    }
    command = [sys.executable, "-m", "possync", "reconcile", "--source", "lightspeed", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, cwd=tmp_path)


def test_the_default_window_ends_on_the_pos_today(
    synced: tuple[Settings, RunningSimulator], db: Database
) -> None:
    settings, sim = synced
    today = _store_today(sim)
    assert today < date.today()  # the simulated store lives in the past: the test can tell
    report = reconcile(settings, db, "lightspeed", days=3)
    # The store's clock stands at noon UTC: the newest outlet time zone may already be tomorrow.
    assert report.last_day in (today, date.fromordinal(today.toordinal() + 1))
    assert (report.last_day - report.first_day).days == 2
    assert report.days_checked >= 2  # two outlets, sales most days
    assert report.verdict == "match"


def test_a_window_without_sales_says_nothing_was_compared(
    synced: tuple[Settings, RunningSimulator], db: Database, tmp_path: Path
) -> None:
    _settings, sim = synced
    later = date.fromordinal(_store_today(sim).toordinal() + 20).isoformat()
    text = _reconcile_cli(db, sim, tmp_path, "--days", "3", "--until", later)
    assert text.returncode == 3, text.stdout + text.stderr
    assert "nothing compared" in text.stdout
    assert "matches" not in text.stdout
    as_json = _reconcile_cli(db, sim, tmp_path, "--days", "3", "--until", later, "--json")
    assert as_json.returncode == 3
    [report] = json.loads(as_json.stdout)
    assert (report["days_checked"], report["verdict"], report["ok"]) == (
        0,
        "nothing_compared",
        False,
    )
    default = _reconcile_cli(db, sim, tmp_path, "--days", "2")
    assert default.returncode == 0, default.stdout + default.stderr
    assert f"lightspeed: {_store_today(sim).isoformat()} to " in default.stdout
    assert "outlet-days checked: matches" in default.stdout
