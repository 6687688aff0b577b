"""The loader fed recorded payloads directly (no HTTP): guards, children, quarantine."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from possync.db.connection import Database
from possync.load.loader import mark_missing_as_deleted, quarantine_records, upsert_page
from possync.load.validate import validate_page
from possync.tables.lightspeed import PRODUCT_CATEGORIES, SALES


def _sale(sale_id: str, version: int, lines: list[tuple[str, str]], **extra: Any) -> dict[str, Any]:
    total = sum(Decimal(amount) for _, amount in lines)
    return {
        "id": sale_id,
        "outlet_id": "o1",
        "status": "CLOSED",
        "sale_date": "2026-10-01T10:00:00+00:00",
        "total_price": float(total),
        "total_tax": 0.0,
        "version": version,
        "line_items": [
            {"id": line_id, "quantity": 1, "price_total": float(amount)}
            for line_id, amount in lines
        ],
        "payments": [{"id": f"{sale_id}-p", "amount": float(total)}],
        **extra,
    }


def _load(db: Database, records: list[dict[str, Any]]) -> Any:
    page = validate_page(SALES, records)
    with db.connect() as conn:
        result = upsert_page(conn, SALES, page)
        quarantine_records(conn, "lightspeed", "sales", page.rejected, uuid.uuid4())
        conn.commit()
    return result


def _lines(db: Database, sale_id: str) -> list[tuple[str, Decimal]]:
    with db.connect() as conn:
        return [
            (r[0], r[1])
            for r in conn.execute(
                """SELECT id, price_total FROM lightspeed_sale_line_items
                   WHERE sale_id = %s ORDER BY id""",
                (sale_id,),
            )
        ]


def test_newer_version_replaces_row_and_children(db: Database) -> None:
    _load(db, [_sale("s1", 10, [("l1", "1.10"), ("l2", "2.20")])])
    _load(db, [_sale("s1", 20, [("l3", "5.55")])])
    assert _lines(db, "s1") == [("l3", Decimal("5.55"))]
    with db.connect() as conn:
        assert conn.execute("SELECT version, total_price FROM lightspeed_sales").fetchall() == [
            (20, Decimal("5.55"))
        ]


def test_older_version_never_overwrites(db: Database) -> None:
    _load(db, [_sale("s1", 20, [("l3", "5.55")])])
    result = _load(db, [_sale("s1", 10, [("l1", "1.10"), ("l2", "2.20")])])
    assert result.written == 0
    assert _lines(db, "s1") == [("l3", Decimal("5.55"))]


def test_duplicate_ids_in_one_page_keep_the_latest(db: Database) -> None:
    _load(db, [_sale("s1", 30, [("l9", "9.99")]), _sale("s1", 25, [("l8", "8.88")])])
    assert _lines(db, "s1") == [("l9", Decimal("9.99"))]


def test_money_is_stored_exactly(db: Database) -> None:
    _load(db, [_sale("s1", 1, [("l1", "20.66116"), ("l2", "0.1"), ("l3", "0.2")])])
    with db.connect() as conn:
        total = conn.execute("SELECT sum(price_total) FROM lightspeed_sale_line_items").fetchone()
    assert total == (Decimal("20.96116"),)


def test_nul_character_is_quarantined_not_fatal(db: Database) -> None:
    bad = _sale("bad", 1, [("lb", "1.00")], note="before\u0000after")
    _load(db, [bad, _sale("good", 2, [("lg", "2.00")])])
    with db.connect() as conn:
        stored = [r[0] for r in conn.execute("SELECT id FROM lightspeed_sales")]
        quarantined = conn.execute(
            "SELECT record_id, reason, raw->>'note' FROM sync_quarantine"
        ).fetchall()
    assert stored == ["good"]
    assert quarantined[0][0] == "bad" and "NUL" in quarantined[0][1]
    assert quarantined[0][2] == "before\ufffdafter"


def test_line_items_that_do_not_add_up_are_quarantined(db: Database) -> None:
    sale = _sale("s1", 1, [("l1", "1.00")])
    sale["total_price"] = 1.5
    _load(db, [sale])
    with db.connect() as conn:
        reason = conn.execute("SELECT reason FROM sync_quarantine").fetchone()
        assert conn.execute("SELECT count(*) FROM lightspeed_sale_line_items").fetchone() == (0,)
    assert reason is not None and "add up to 1.0 but total_price is 1.5" in reason[0]


def test_snapshot_marks_vanished_rows_deleted_and_revives_them(db: Database) -> None:
    categories = [{"id": "c1", "name": "Shoes"}, {"id": "c2", "name": "Hats"}]
    with db.connect() as conn:
        upsert_page(conn, PRODUCT_CATEGORIES, validate_page(PRODUCT_CATEGORIES, categories))
        assert mark_missing_as_deleted(conn, PRODUCT_CATEGORIES, ["c1", "c2"]) == 0
        upsert_page(conn, PRODUCT_CATEGORIES, validate_page(PRODUCT_CATEGORIES, categories[:1]))
        assert mark_missing_as_deleted(conn, PRODUCT_CATEGORIES, ["c1"]) == 1
        deleted = conn.execute(
            "SELECT id FROM lightspeed_product_categories WHERE deleted_at IS NOT NULL"
        ).fetchall()
        assert deleted == [("c2",)]
        upsert_page(conn, PRODUCT_CATEGORIES, validate_page(PRODUCT_CATEGORIES, categories))
        revived = conn.execute(
            "SELECT count(*) FROM lightspeed_product_categories WHERE deleted_at IS NULL"
        ).fetchone()
        conn.commit()
    assert revived == (2,)


def test_parent_raw_leaves_out_children_which_keep_their_own(db: Database) -> None:
    _load(db, [_sale("s1", 1, [("l1", "1.10"), ("l2", "2.20")])])
    with db.connect() as conn:
        sale_raw = conn.execute("SELECT raw FROM lightspeed_sales").fetchone()
        line_raws = conn.execute(
            "SELECT raw FROM lightspeed_sale_line_items ORDER BY id"
        ).fetchall()
    assert sale_raw is not None
    assert "line_items" not in sale_raw[0] and "payments" not in sale_raw[0]
    assert sale_raw[0]["outlet_id"] == "o1"
    assert [r[0] for r in line_raws] == [
        {"id": "l1", "quantity": 1, "price_total": 1.1},
        {"id": "l2", "quantity": 1, "price_total": 2.2},
    ]


def test_new_page_with_a_clashing_child_id_falls_back_to_the_upsert(db: Database) -> None:
    """A page of new sales goes straight in by COPY; if a child id is already stored (under
    another sale) that fails, and the page is loaded through staging instead."""
    _load(db, [_sale("s1", 1, [("shared-line", "1.00")])])
    result = _load(
        db, [_sale("s2", 2, [("shared-line", "2.00")]), _sale("s3", 3, [("l3", "3.00")])]
    )
    assert result.written == 2
    assert _lines(db, "s2") == [("shared-line", Decimal("2.00"))]
    assert _lines(db, "s3") == [("l3", Decimal("3.00"))]
    with db.connect() as conn:
        assert conn.execute("SELECT count(*) FROM lightspeed_sales").fetchone() == (3,)


def test_unknown_references_are_counted_not_rejected(db: Database) -> None:
    with db.connect() as conn:
        conn.execute(
            "INSERT INTO lightspeed_outlets (id, name, version, raw) VALUES ('o1', 'A', 1, '{}')"
        )
        conn.commit()
    sale = _sale("s1", 1, [("l1", "1.00")], register_id="nowhere")
    sale["outlet_id"] = "o1"
    result = _load(db, [sale, _sale("s2", 2, [("l2", "2.00")], register_id="nowhere")])
    assert result.written == 2
    # two sales name an unknown register; line items name no product (None is not counted)
    assert result.unknown_references == 2
