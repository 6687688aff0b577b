"""COPY text built during validation equals the tuples encoded afterwards, and PostgreSQL
reads it back exactly (tabs, newlines, backslashes, NULL, unicode, money)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from possync.db.connection import Database
from possync.load.loader import upsert_page
from possync.load.validate import validate_page
from possync.tables.lightspeed import CUSTOMERS

TRICKY = [
    {
        "id": "c1",
        "first_name": "Tab\there",
        "last_name": "New\nline\r\n",
        "email": "back\\slash@example.com",
        "company_name": "Ünïcødé ☕",
        "balance": -25840.85,
        "loyalty_balance": 0.1,
        "year_to_date": 1e-05,
        "do_not_email": True,
        "date_of_birth": "1963-03-03",
        "updated_at": "2026-01-02T03:04:05Z",
        "note": "\\N is not null",
        "version": 47538119467,
    },
    {"id": "c2", "version": 2, "first_name": None, "balance": "12.50"},
]


def test_direct_copy_text_equals_encoded_tuples() -> None:
    direct = validate_page(CUSTOMERS, TRICKY, copy_text=True)
    tuples = validate_page(CUSTOMERS, TRICKY)
    tuples.encode_for_copy()
    assert direct.copy_data == tuples.copy_data
    assert not direct.rejected


def test_postgres_reads_the_copy_text_back_exactly(db: Database) -> None:
    page = validate_page(CUSTOMERS, TRICKY, copy_text=True)
    with db.connect() as conn:
        assert upsert_page(conn, CUSTOMERS, page).written == 2
        rows: dict[str, Any] = {
            r[0]: r[1:]
            for r in conn.execute(
                """SELECT id, first_name, last_name, email, company_name, balance,
                          loyalty_balance, year_to_date, do_not_email, date_of_birth::text,
                          raw->>'note', version
                   FROM lightspeed_customers"""
            )
        }
        conn.commit()
    assert rows["c1"] == (
        "Tab\there",
        "New\nline\r\n",
        "back\\slash@example.com",
        "Ünïcødé ☕",
        Decimal("-25840.85"),
        Decimal("0.1"),
        Decimal("0.00001"),
        True,
        "1963-03-03",
        "\\N is not null",
        47538119467,
    )
    assert rows["c2"][0] is None and rows["c2"][4] == Decimal("12.50")
