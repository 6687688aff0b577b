"""Reconciliation: the POS's daily counts and money against the database, per outlet and day."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from possync.config.settings import Settings
from possync.db.connection import Database
from possync.engine.reconcile import reconcile, record_reconcile
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


def _window(sim: RunningSimulator) -> date:
    truth: dict[str, Any] = sim.simulator.truth()["lightspeed"]
    return max(date.fromisoformat(day["date"]) for day in truth["daily"])


def test_clean_database_matches(synced: tuple[Settings, RunningSimulator], db: Database) -> None:
    settings, sim = synced
    report = reconcile(settings, db, "lightspeed", days=30, until=_window(sim))
    assert report.ok, report.differences[:3]
    assert report.days_checked >= 30  # two outlets over 30 days, most days with sales


def test_altered_missing_and_extra_sales_are_caught(
    synced: tuple[Settings, RunningSimulator], db: Database
) -> None:
    settings, sim = synced
    until = _window(sim)
    with db.connect() as conn:
        closed = conn.execute(
            """SELECT s.id, s.outlet_id, (s.sale_date AT TIME ZONE o.time_zone)::date
               FROM lightspeed_sales s JOIN lightspeed_outlets o ON o.id = s.outlet_id
               WHERE s.status = 'CLOSED' AND s.deleted_at IS NULL
                 AND (s.sale_date AT TIME ZONE o.time_zone)::date > %s::date - 20
               ORDER BY s.sale_date LIMIT 3""",
            (until,),
        ).fetchall()
        altered, missing, extra = closed
        conn.execute(
            "UPDATE lightspeed_sales SET total_price = total_price + 0.01 WHERE id = %s",
            (altered[0],),
        )
        conn.execute("DELETE FROM lightspeed_sales WHERE id = %s", (missing[0],))
        conn.execute(
            """INSERT INTO lightspeed_sales (id, outlet_id, status, total_price, total_tax,
                   sale_date, version, raw)
               SELECT 'extra-sale', outlet_id, 'CLOSED', 10, 1, sale_date + interval '2 days',
                      1, '{}'::jsonb
               FROM lightspeed_sales WHERE id = %s""",
            (extra[0],),
        )
        conn.commit()
    extra_day = (extra[2].toordinal() + 2, extra[1])
    report = reconcile(settings, db, "lightspeed", days=30, until=until)
    assert not report.ok
    by_day = {(d.location_id, d.business_date, d.field): d for d in report.differences}
    price = by_day[(altered[1], altered[2].isoformat(), "total_price")]
    assert price.database != price.pos
    missing_count = by_day[(missing[1], missing[2].isoformat(), "count")]
    assert int(missing_count.database) == int(missing_count.pos) - 1
    extra_date = date.fromordinal(extra_day[0]).isoformat()
    extra_count = by_day[(extra_day[1], extra_date, "count")]
    assert int(extra_count.database) == int(extra_count.pos) + 1
    run_id = record_reconcile(db, report)
    with db.connect() as conn:
        row = conn.execute(
            "SELECT action, status, metadata FROM sync_log WHERE run_id = %s", (run_id,)
        ).fetchone()
    assert row is not None and row[0] == "reconcile" and row[1] == "completed"
    assert row[2]["ok"] is False and len(row[2]["differences"]) == len(report.differences)


def test_cli_exits_non_zero_on_mismatch(
    synced: tuple[Settings, RunningSimulator], db: Database, tmp_path: Path
) -> None:
    _settings, sim = synced
    until = _window(sim).isoformat()
    env = {
        **possync_environment(),
        "POSSYNC_DATABASE_URL": db.url,
        "POSSYNC_DATA_DIR": str(tmp_path),
        "POSSYNC_LIGHTSPEED_URL": sim.lightspeed_url,
        "POSSYNC_LIGHTSPEED_TOKEN": sim.token,
    }
    command = [
        sys.executable,
        "-m",
        "possync",
        "reconcile",
        "--source",
        "lightspeed",
        "--days",
        "10",
        "--until",
        until,
        "--json",
    ]
    clean = subprocess.run(command, env=env, capture_output=True, text=True, cwd=tmp_path)
    assert clean.returncode == 0, clean.stderr
    with db.connect() as conn:
        conn.execute(
            """UPDATE lightspeed_sales SET total_tax = total_tax + 5 WHERE id = (
                   SELECT s.id FROM lightspeed_sales s
                   JOIN lightspeed_outlets o ON o.id = s.outlet_id
                   WHERE s.status = 'CLOSED' AND s.deleted_at IS NULL
                     AND (s.sale_date AT TIME ZONE o.time_zone)::date = %s::date LIMIT 1)""",
            (until,),
        )
        conn.commit()
    dirty = subprocess.run(command, env=env, capture_output=True, text=True, cwd=tmp_path)
    assert dirty.returncode == 1
    assert '"field": "total_tax"' in dirty.stdout
    assert sim.token not in dirty.stdout + dirty.stderr
