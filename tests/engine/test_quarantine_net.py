"""Quarantine is a safety net, not a trap door: the page that stops a run does not move the
cursor (a rerun after a fix, or with --force, reads it again), and quarantined records can be
validated again with `possync sync --retry-quarantined`."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from bench.trials.stub_pos import StubPos, running_stub_pos
from psycopg.types.json import Jsonb

from possync.db.connection import Database
from tests.engine.test_failures_recorded import run_cli

CUSTOMERS = 150


@pytest.fixture
def stub() -> Iterator[StubPos]:
    with running_stub_pos() as running:
        yield running


def _rows(db: Database, sql: str) -> list[tuple[Any, ...]]:
    with db.connect() as conn:
        return list(conn.execute(sql).fetchall())


def _customers(balance: Any) -> bytes:
    records = [
        {"id": f"c{n:03}", "first_name": f"C{n}", "balance": balance, "version": n}
        for n in range(1, CUSTOMERS + 1)
    ]
    return orjson.dumps({"data": records})


def _state(db: Database) -> tuple[Any, ...]:
    [row] = _rows(db, "SELECT status, last_version FROM sync_state WHERE entity_type = 'customers'")
    return tuple(row)


def _counts(db: Database) -> tuple[int, int]:
    [(stored,)] = _rows(db, "SELECT count(*) FROM lightspeed_customers")
    [(quarantined,)] = _rows(db, "SELECT count(*) FROM sync_quarantine")
    return int(stored), int(quarantined)


def test_the_page_that_stops_a_run_does_not_move_the_cursor(
    db: Database, tmp_path: Path, stub: StubPos, monkeypatch: pytest.MonkeyPatch
) -> None:
    stub.answer("/customers", 0, _customers("not money"))
    sync = ("sync", "--source=lightspeed", "--entity=customers")

    first = run_cli(db, tmp_path, stub, monkeypatch, *sync)
    assert first.exit_code == 1
    assert f"{CUSTOMERS} of {CUSTOMERS} records failed validation" in first.output
    assert _state(db) == ("failed", None)  # the cursor stays before the stopping page
    assert _counts(db) == (0, CUSTOMERS)  # its records are in quarantine, to be seen

    second = run_cli(db, tmp_path, stub, monkeypatch, *sync)  # nothing fixed: fails again
    assert second.exit_code == 1 and "failed validation" in second.output
    assert _state(db) == ("failed", None)
    assert _rows(db, "SELECT DISTINCT times_seen FROM sync_quarantine") == [(2,)]

    stub.answer("/customers", 0, _customers("12.50"))  # the POS data is fixed
    third = run_cli(db, tmp_path, stub, monkeypatch, *sync)
    assert third.exit_code == 0, third.output
    assert _state(db) == ("success", CUSTOMERS)
    assert _counts(db) == (CUSTOMERS, 0)  # all read again, loaded, released
    [(total,)] = _rows(db, "SELECT sum(balance) FROM lightspeed_customers")
    assert str(total) == "1875.00"


def test_force_reads_the_stopping_page_again_and_loads_the_rest(
    db: Database, tmp_path: Path, stub: StubPos, monkeypatch: pytest.MonkeyPatch
) -> None:
    records = [
        {"id": f"c{n:03}", "balance": "bad" if n % 2 else "1.00", "version": n}
        for n in range(1, CUSTOMERS + 1)
    ]
    stub.answer("/customers", 0, orjson.dumps({"data": records}))
    sync = ("sync", "--source=lightspeed", "--entity=customers")
    assert run_cli(db, tmp_path, stub, monkeypatch, *sync).exit_code == 1
    assert _state(db) == ("failed", None) and _counts(db) == (0, CUSTOMERS // 2)
    forced = run_cli(db, tmp_path, stub, monkeypatch, *sync, "--force")
    assert forced.exit_code == 0, forced.output
    assert _state(db) == ("success", CUSTOMERS)
    assert _counts(db) == (CUSTOMERS // 2, CUSTOMERS // 2)


def test_retry_quarantined_loads_what_now_validates(
    db: Database, tmp_path: Path, stub: StubPos, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows as an older possync (or a validation since fixed) left them: one now valid, one
    still invalid, one whose payload was not kept exactly (not retried)."""
    with db.connect() as conn:
        conn.execute(
            """INSERT INTO lightspeed_customers (id, balance, version, raw)
               VALUES ('newer', 9.99, 50, '{}')"""
        )
        for record_id, raw, exact in (
            ("ok", {"id": "ok", "balance": "3.25", "version": 7}, True),
            ("newer", {"id": "newer", "balance": "1.00", "version": 5}, True),
            ("bad", {"id": "bad", "balance": "n/a", "version": 8}, True),
            ("stand-in", {"id": "stand-in", "first_name": "caf\ufffd", "version": 9}, False),
        ):
            conn.execute(
                """INSERT INTO sync_quarantine
                       (source, entity_type, record_id, reason, raw, raw_exact, run_id)
                   VALUES ('lightspeed', 'customers', %s, 'old reason', %s, %s, %s)""",
                (record_id, Jsonb(raw), exact, uuid.uuid4()),
            )
        conn.commit()
    result = run_cli(
        db, tmp_path, stub, monkeypatch, "sync", "--source=lightspeed", "--retry-quarantined"
    )
    assert result.exit_code == 0, result.output
    assert "lightspeed customers: 2 of 3 now load; 1 stay quarantined" in result.output
    assert [
        (r[0], str(r[1]), r[2])
        for r in _rows(db, "SELECT id, balance, version FROM lightspeed_customers ORDER BY id")
    ] == [("newer", "9.99", 50), ("ok", "3.25", 7)]  # an older payload never regresses a row
    assert _rows(
        db, "SELECT record_id, reason, times_seen FROM sync_quarantine ORDER BY record_id"
    ) == [
        ("bad", "balance: 'n/a' is not a valid numeric", 2),
        ("stand-in", "old reason", 1),
    ]
    assert stub.requests == []  # the stored payloads, not the API

    mixed = run_cli(db, tmp_path, stub, monkeypatch, "sync", "--retry-quarantined", "--full")
    assert mixed.exit_code == 1
    assert "use it without --full, --dry-run, --force, --since or --until" in mixed.output


def test_new_quarantined_records_send_one_alert_per_incident(
    db: Database, tmp_path: Path, stub: StubPos, monkeypatch: pytest.MonkeyPatch
) -> None:
    records = [
        {"id": f"c{n:03}", "balance": "bad" if n in (7, 9) else "1.00", "version": n}
        for n in range(1, 31)
    ]
    stub.answer("/customers", 0, orjson.dumps({"data": records}))
    sync = ("sync", "--source=lightspeed", "--entity=customers")
    assert run_cli(db, tmp_path, stub, monkeypatch, *sync).exit_code == 0
    alerts = [body for path, body in stub.posts if path == "/alerts"]
    assert [a["title"] for a in alerts] == [
        "possync: 2 new records in quarantine (lightspeed customers)"
    ]
    assert "c007: balance: &#x27;bad&#x27; is not a valid numeric" in alerts[0]["message"]
    assert "/quarantine" in alerts[0]["message"]

    stub.posts.clear()
    with db.connect() as conn:  # the same records again (a full re-read): no new incident
        conn.execute("UPDATE sync_state SET last_version = NULL")
        conn.commit()
    assert run_cli(db, tmp_path, stub, monkeypatch, *sync).exit_code == 0
    assert _rows(db, "SELECT DISTINCT times_seen FROM sync_quarantine") == [(2,)]
    assert stub.posts == []
