"""Square reconciliation: the POS's COMPLETED orders per location and local day against
square_daily_sales_summary, through the real HTTP client and the simulator."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from possync.config.settings import Settings
from possync.db.connection import Database
from possync.engine.reconcile import reconcile, record_reconcile
from possync.engine.run import SyncRequest, run_sync
from possync.simulator import FaultConfig, RunningSimulator, SimulatorConfig, running_simulator
from possync.sources.square import SquareSource
from tests.conftest import make_settings
from tests.support.environment import possync_environment
from tests.support.retry import FAST_RETRY

DAYS = 30


class RecordingTransport(httpx.BaseTransport):
    """Forwards to the simulator and keeps every JSON body sent."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.bodies: list[dict[str, Any]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.content:
            self.bodies.append(json.loads(request.content))
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


@pytest.fixture
def synced(db: Database, tmp_path: Path) -> Iterator[tuple[Settings, RunningSimulator]]:
    with running_simulator(SimulatorConfig(seed=11, scale="small", lightspeed=False)) as sim:
        settings = make_settings(db, tmp_path, square_url=sim.square_url, square_token=sim.token)
        source = SquareSource(settings, retry=FAST_RETRY)
        try:
            request = SyncRequest("square", entities=("locations", "orders"))
            report = run_sync(settings, db, request, source=source)
        finally:
            source.close()
        assert report.ok, [(r.entity, r.error) for r in report.failed]
        yield settings, sim


def _truth_days(sim: RunningSimulator) -> dict[tuple[str, str], dict[str, int]]:
    truth: dict[str, Any] = sim.simulator.truth()["square"]
    return {(day["location_id"], day["date"]): day for day in truth["daily"]}


def _last_day(sim: RunningSimulator) -> date:
    return max(date.fromisoformat(day) for _, day in _truth_days(sim))


def _reconcile(
    settings: Settings, db: Database, until: date, transport: httpx.BaseTransport | None = None
) -> Any:
    source = SquareSource(settings, retry=FAST_RETRY, transport=transport)
    try:
        return reconcile(settings, db, "square", days=DAYS, until=until, source=source)
    finally:
        source.close()


def test_clean_database_matches_in_chunks_of_ten(
    synced: tuple[Settings, RunningSimulator], db: Database
) -> None:
    settings, sim = synced
    until = _last_day(sim)
    transport = RecordingTransport()
    report = _reconcile(settings, db, until, transport)
    assert report.ok, report.differences[:3]
    first = (until - timedelta(days=DAYS - 1)).isoformat()
    expected_days = [key for key in _truth_days(sim) if first <= key[1] <= until.isoformat()]
    assert report.days_checked == len(expected_days) > DAYS  # 12 locations, most days busy
    searches = [body for body in transport.bodies if "location_ids" in body]
    located = {loc for body in searches for loc in body["location_ids"]}
    assert len(located) == 12 and all(len(body["location_ids"]) <= 10 for body in searches)
    for body in searches:
        assert body["query"]["filter"]["state_filter"] == {"states": ["COMPLETED"]}
        assert set(body["query"]["filter"]["date_time_filter"]) == {"created_at"}
        assert body["query"]["sort"] == {"sort_field": "CREATED_AT", "sort_order": "ASC"}


def test_expired_cursors_count_each_order_once(
    synced: tuple[Settings, RunningSimulator], db: Database, tmp_path: Path
) -> None:
    _settings, sim = synced
    small_pages = make_settings(
        db, tmp_path, square_url=sim.square_url, square_token=sim.token, square_page_limit=40
    )
    sim.simulator.set_faults(FaultConfig(expired_cursor_rate=0.4, seed=3))
    transport = RecordingTransport()
    report = _reconcile(small_pages, db, _last_day(sim), transport)
    restarts = sum(1 for body in transport.bodies if "cursor" not in body) - 2  # two chunks
    assert restarts > 3  # cursors were refused and queries restarted mid-way...
    assert report.ok, report.differences[:3]  # ...yet no order was counted twice


def test_altered_missing_and_extra_orders_are_caught(
    synced: tuple[Settings, RunningSimulator], db: Database
) -> None:
    settings, sim = synced
    until = _last_day(sim)
    with db.connect() as conn:
        # Completed sales at three different locations, 5 to 20 days before `until`.
        rows = conn.execute(
            """SELECT DISTINCT ON (o.location_id) o.id, o.location_id, d.day
               FROM square_orders o JOIN square_locations l ON l.id = o.location_id
               CROSS JOIN LATERAL (SELECT (o.created_at AT TIME ZONE l.timezone)::date AS day) d
               WHERE o.state = 'COMPLETED' AND NOT o.is_return
                 AND d.day BETWEEN %(until)s::date - 20 AND %(until)s::date - 5
               ORDER BY o.location_id, d.day, o.id LIMIT 3""",
            {"until": until},
        ).fetchall()
        (altered, altered_loc, altered_day), (missing, missing_loc, missing_day) = rows[:2]
        extra_source, extra_loc, extra_source_day = rows[2]
        conn.execute(
            "UPDATE square_orders SET total_money = total_money + 1 WHERE id = %s", (altered,)
        )
        conn.execute("DELETE FROM square_orders WHERE id = %s", (missing,))
        conn.execute(
            """INSERT INTO square_orders (id, location_id, state, currency, total_money,
                   total_tax_money, total_discount_money, created_at, updated_at, raw)
               SELECT 'extra-order', location_id, 'COMPLETED', currency, 1234, 100, 0,
                      created_at + interval '2 days', updated_at + interval '2 days', raw
               FROM square_orders WHERE id = %s""",
            (extra_source,),
        )
        conn.commit()
    extra_day = extra_source_day + timedelta(days=2)
    report = _reconcile(settings, db, until)
    assert not report.ok
    found = {(d.location_id, d.business_date, d.field): d for d in report.differences}
    money = found[(altered_loc, altered_day.isoformat(), "total_money")]
    assert int(money.database) == int(money.pos) + 1
    assert (altered_loc, altered_day.isoformat(), "count") not in found
    count = found[(missing_loc, missing_day.isoformat(), "count")]
    assert int(count.database) == int(count.pos) - 1
    extra_count = found[(extra_loc, extra_day.isoformat(), "count")]
    assert int(extra_count.database) == int(extra_count.pos) + 1
    extra_money = found[(extra_loc, extra_day.isoformat(), "total_money")]
    assert int(extra_money.database) == int(extra_money.pos) + 1234
    days_hit = {(d.location_id, d.business_date) for d in report.differences}
    assert len(days_hit) == 3
    run_id = record_reconcile(db, report)
    with db.connect() as conn:
        row = conn.execute(
            "SELECT action, entity_type, records_processed, metadata FROM sync_log "
            "WHERE run_id = %s",
            (run_id,),
        ).fetchone()
    assert row is not None and row[:3] == ("reconcile", "orders", report.days_checked)
    assert row[3]["ok"] is False and len(row[3]["differences"]) == len(report.differences)


def test_cli_exits_one_on_mismatch_without_printing_the_token(
    synced: tuple[Settings, RunningSimulator], db: Database, tmp_path: Path
) -> None:
    _settings, sim = synced
    until = _last_day(sim).isoformat()
    env = {
        **possync_environment(),
        "POSSYNC_DATABASE_URL": db.url,
        "POSSYNC_DATA_DIR": str(tmp_path),
        "POSSYNC_SQUARE_URL": sim.square_url,
        "POSSYNC_SQUARE_TOKEN": sim.token,
    }
    command = [sys.executable, "-m", "possync", "reconcile", "--source", "square"]
    command += ["--days", "10", "--until", until, "--json"]
    clean = subprocess.run(command, env=env, capture_output=True, text=True, cwd=tmp_path)
    assert clean.returncode == 0, clean.stderr
    assert json.loads(clean.stdout)[0]["ok"] is True
    with db.connect() as conn:
        changed = conn.execute(
            """UPDATE square_orders SET total_tax_money = coalesce(total_tax_money, 0) + 5
               WHERE id = (
                   SELECT o.id FROM square_orders o
                   JOIN square_locations l ON l.id = o.location_id
                   WHERE o.state = 'COMPLETED'
                     AND (o.created_at AT TIME ZONE l.timezone)::date = %s::date
                   ORDER BY o.id LIMIT 1)""",
            (until,),
        ).rowcount
        conn.commit()
    assert changed == 1
    dirty = subprocess.run(command, env=env, capture_output=True, text=True, cwd=tmp_path)
    assert dirty.returncode == 1, dirty.stderr
    differences = json.loads(dirty.stdout)[0]["differences"]
    assert [d["field"] for d in differences] == ["total_tax_money"]
    assert int(differences[0]["database"]) == int(differences[0]["pos"]) + 5
    assert sim.token not in dirty.stdout + dirty.stderr + clean.stdout + clean.stderr
    with db.connect() as conn:
        logged = conn.execute(
            "SELECT count(*) FROM sync_log WHERE action = 'reconcile' AND source = 'square'"
        ).fetchone()
    assert logged is not None and logged[0] == 2
    # Read by people: the location's name and money in currency units with the currency.
    text_command = [part for part in command if part != "--json"]
    text = subprocess.run(text_command, env=env, capture_output=True, text=True, cwd=tmp_path)
    assert text.returncode == 1, text.stderr
    with db.connect() as conn:
        located = conn.execute(
            "SELECT name, currency FROM square_locations WHERE id = %s",
            (differences[0]["location_id"],),
        ).fetchone()
    assert located is not None
    name, currency = located
    pos_units = Decimal(int(differences[0]["pos"])).scaleb(-2)
    expected = (
        f"  {name} {until} total_tax_money: POS {pos_units:,.2f} {currency}, "
        f"database {pos_units + Decimal('0.05'):,.2f} {currency}"
    )
    assert expected in text.stdout.splitlines(), text.stdout
