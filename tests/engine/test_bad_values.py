"""Values PostgreSQL cannot store, and bodies orjson refuses: the record goes to quarantine
with its reason, the rest of its page loads, and the run completes (real HTTP client against
a stub on 127.0.0.1, real PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from bench.trials.stub_pos import StubPos, running_stub_pos

from possync.config.settings import Settings
from possync.db.connection import Database
from possync.engine.run import SyncReport, SyncRequest, run_sync
from possync.sources.lightspeed import LightspeedSource
from tests.conftest import make_settings
from tests.support.retry import fast_retry

FAST_RETRY = fast_retry(max_attempts=3)


@pytest.fixture
def stub() -> Iterator[StubPos]:
    with running_stub_pos() as running:
        yield running


@pytest.fixture
def settings(db: Database, tmp_path: Path, stub: StubPos) -> Settings:
    return make_settings(db, tmp_path, lightspeed_url=stub.url, lightspeed_token="t" * 20)


def sync_entity(settings: Settings, db: Database, entity: str, **request: Any) -> SyncReport:
    source = LightspeedSource(settings, retry=FAST_RETRY)
    try:
        return run_sync(
            settings, db, SyncRequest("lightspeed", (entity,), **request), source=source
        )
    finally:
        source.close()


def stored(db: Database, sql: str) -> list[tuple[Any, ...]]:
    with db.connect() as conn:
        return list(conn.execute(sql).fetchall())


def _payment_type(type_id: int, version: int, record_id: str) -> dict[str, Any]:
    return {"id": record_id, "name": f"type {record_id}", "type_id": type_id, "version": version}


def test_out_of_range_integers_are_quarantined_while_the_page_loads(
    settings: Settings, db: Database, stub: StubPos
) -> None:
    records = [
        _payment_type(1, 1, "good-1"),
        _payment_type(2**31, 2, "int-overflow"),  # INTEGER column
        _payment_type(3, 2**63, "version-overflow"),  # BIGINT column (and the cursor)
        _payment_type(4, 4, "good-4"),
    ]
    stub.answer("/payment_types", 0, orjson.dumps({"data": records}))
    report = sync_entity(settings, db, "payment_types")
    [result] = report.results
    assert (result.status, result.error, result.records, result.quarantined) == (
        "completed",
        None,
        4,
        2,
    )
    assert stored(db, "SELECT id, type_id, version FROM lightspeed_payment_types ORDER BY id") == [
        ("good-1", 1, 1),
        ("good-4", 4, 4),
    ]
    reasons = dict(stored(db, "SELECT record_id, reason FROM sync_quarantine"))
    assert set(reasons) == {"int-overflow", "version-overflow"}
    assert "type_id: 2147483648 is out of range for its INTEGER column" in reasons["int-overflow"]
    version_reason = reasons["version-overflow"]
    assert "version: 9223372036854775808 is out of range for its BIGINT" in version_reason
    # The cursor is the highest version PostgreSQL can hold: the bad record is read again.
    assert stored(
        db, "SELECT last_version, status FROM sync_state WHERE entity_type = 'payment_types'"
    ) == [(4, "success")]
    assert stored(
        db,
        "SELECT (raw->>'version')::numeric FROM sync_quarantine "
        "WHERE record_id = 'version-overflow'",
    ) == [(2**63,)]


def test_numeric_overflow_is_quarantined_while_the_page_loads(
    settings: Settings, db: Database, stub: StubPos
) -> None:
    records = [
        {"id": "c1", "balance": "12.34", "version": 1},
        {"id": "c2", "balance": "1e200000", "version": 2},  # beyond NUMERIC's 131,072 digits
        {"id": "c3", "balance": 5, "version": 3},
    ]
    stub.answer("/customers", 0, orjson.dumps({"data": records}))
    [result] = sync_entity(settings, db, "customers").results
    assert (result.status, result.quarantined) == ("completed", 1)
    assert [
        (r[0], str(r[1]))
        for r in stored(db, "SELECT id, balance FROM lightspeed_customers ORDER BY id")
    ] == [("c1", "12.34"), ("c3", "5")]
    [(record_id, reason)] = stored(db, "SELECT record_id, reason FROM sync_quarantine")
    assert record_id == "c2" and "out of range for its NUMERIC column" in reason


# Each body orjson refuses (or would read wrong): one bad customer between two good ones.
UNDECODABLE = {
    "lone surrogate": (b'"first_name": "smile \\ud83d"', "lone surrogate"),
    "invalid UTF-8": (b'"first_name": "caf\xe9"', "invalid UTF-8"),
    "number out of range": (b'"balance": 1e400', "the number 1e400 is out of range"),
    "integer beyond 64 bits": (b'"loyalty_points": 18446744073709551616', "beyond 64 bits"),
    "integer beyond 64 bits in a column": (
        b'"year_to_date": 18446744073709551616',
        "year_to_date: the integer 18446744073709551616 is beyond 64 bits",
    ),
}


@pytest.mark.parametrize("case", list(UNDECODABLE))
def test_undecodable_record_is_quarantined_while_the_page_loads(
    settings: Settings, db: Database, stub: StubPos, case: str
) -> None:
    bad_field, expected_reason = UNDECODABLE[case]
    body = (
        b'{"data": [{"id": "c1", "first_name": "Ann", "version": 1},'
        b'{"id": "c2", "version": 2, ' + bad_field + b"},"
        b'{"id": "c3", "first_name": "Bo", "version": 3}]}'
    )
    stub.answer("/customers", 0, body)
    [result] = sync_entity(settings, db, "customers").results
    assert (result.status, result.error, result.records, result.quarantined) == (
        "completed",
        None,
        3,
        1,
    )
    assert result.retries == 0  # parsed at once: not retried as "truncated or invalid JSON"
    assert stored(db, "SELECT id, first_name FROM lightspeed_customers ORDER BY id") == [
        ("c1", "Ann"),
        ("c3", "Bo"),
    ]
    [(record_id, reason, version)] = stored(
        db, "SELECT record_id, reason, raw->>'version' FROM sync_quarantine"
    )
    assert record_id == "c2" and expected_reason in reason
    assert version == "2"  # the payload is kept, with a stand-in for the bad value
    assert stored(db, "SELECT last_version FROM sync_state WHERE entity_type = 'customers'") == [
        (3,)
    ]


def test_integer_beyond_64_bits_never_becomes_a_float(
    settings: Settings, db: Database, stub: StubPos
) -> None:
    """orjson would read it as 1.2345678901234568e+23 and the page would load a wrong value:
    the exact parser keeps the integer, and the quarantine keeps it digit for digit."""
    body = b'{"data": [{"id": "c1", "customer_code": 123456789012345678901234, "version": 1}]}'
    stub.answer("/customers", 0, body)
    [result] = sync_entity(settings, db, "customers").results
    assert (result.status, result.records, result.quarantined) == ("completed", 1, 1)
    assert stored(db, "SELECT count(*) FROM lightspeed_customers") == [(0,)]
    assert stored(db, "SELECT raw->>'customer_code', reason FROM sync_quarantine") == [
        (
            "123456789012345678901234",
            "customer_code: the integer 123456789012345678901234 is beyond 64 bits",
        )
    ]
