"""Validation's one row format, COPY text: each field escaped once, and PostgreSQL reads it
back exactly (tabs, newlines, backslashes, NULL, unicode, money)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from possync.db.connection import Database
from possync.load.copy_text import COPY_NULL, copy_text
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


def test_copy_text_escapes_the_four_special_characters_only() -> None:
    assert copy_text("a\\b\tc\nd\re") == "a\\\\b\\tc\\nd\\re"
    assert copy_text("Ünïcødé ☕ \\N") == "Ünïcødé ☕ \\\\N"
    assert copy_text("plain") == "plain"


def test_validation_writes_each_field_escaped_once() -> None:
    page = validate_page(CUSTOMERS, TRICKY)
    assert not page.rejected and page.count(CUSTOMERS.table) == 2
    lines = page.copy_data[CUSTOMERS.table].decode("utf-8").split("\n")
    assert lines[2] == ""  # every row ends with a newline, none inside a row
    names = [*CUSTOMERS.column_names, "raw"]
    first = dict(zip(names, lines[0].split("\t"), strict=True))
    second = dict(zip(names, lines[1].split("\t"), strict=True))
    assert first["first_name"] == "Tab\\there"
    assert first["last_name"] == "New\\nline\\r\\n"
    assert first["email"] == "back\\\\slash@example.com"
    assert first["balance"] == "-25840.85" and first["do_not_email"] == "t"
    # The raw JSON's own escapes (\\ for a backslash) are doubled once more for COPY.
    assert '"note":"\\\\\\\\N is not null"' in first["raw"]
    assert second["first_name"] == COPY_NULL and second["balance"] == "12.50"


def test_postgres_reads_the_copy_text_back_exactly(db: Database) -> None:
    page = validate_page(CUSTOMERS, TRICKY)
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
