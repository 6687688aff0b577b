"""The overview's "Money check" and `/api/status`'s `reconciliation`: the latest
reconciliation per source, from the sync_log rows `record_reconcile` writes."""

from __future__ import annotations

import re
from datetime import date

from flask.testing import FlaskClient

from possync.db.connection import Database
from possync.engine.reconcile import Difference, ReconcileReport, record_reconcile


def _report(source: str, days: int, differences: int, first_day: date) -> ReconcileReport:
    report = ReconcileReport(source, first_day, date(2026, 3, 7), days_checked=days)
    report.differences = [
        Difference("LOC-A", f"2026-03-0{1 + i % 7}", "total_money", str(1000 + i), str(999 + i))
        for i in range(differences)
    ]
    return report


def _money_checks(client: FlaskClient) -> dict[str, dict[str, object]]:
    response = client.get("/api/status")
    assert response.status_code == 200
    return {check["source"]: check for check in response.get_json()["reconciliation"]}


def test_a_configured_source_shows_not_checked_before_any_reconciliation(
    logged_in: FlaskClient,
) -> None:
    checks = _money_checks(logged_in)
    assert list(checks) == ["lightspeed"]  # Square is neither configured nor checked
    assert checks["lightspeed"]["ok"] is None and checks["lightspeed"]["checked_at"] is None
    html = logged_in.get("/").get_data(as_text=True)
    assert "<h2>Money check</h2>" in html
    assert re.search(r'data-reconcile="lightspeed".*?not checked', html, re.S)


def test_latest_result_per_source_with_the_first_differences(
    logged_in: FlaskClient, db: Database
) -> None:
    with db.connect() as conn:
        conn.execute(
            """INSERT INTO square_locations (id, name, currency, raw)
               VALUES ('LOC-A', 'Harbour <Street>', 'USD', '{}'::jsonb)"""
        )
        conn.commit()
    old = record_reconcile(db, _report("lightspeed", 10, 3, date(2026, 3, 1)))
    with db.connect() as conn:  # an older mismatch, since fixed
        conn.execute(
            """UPDATE sync_log SET "timestamp" = "timestamp" - interval '1 day',
                      finished_at = finished_at - interval '1 day' WHERE run_id = %s""",
            (old,),
        )
        conn.commit()
    assert _money_checks(logged_in)["lightspeed"]["difference_count"] == 3  # cached now...
    record_reconcile(db, _report("lightspeed", 14, 0, date(2026, 3, 1)))
    record_reconcile(db, _report("square", 84, 7, date(2026, 3, 1)))
    checks = _money_checks(logged_in)  # ...and refreshed: the new rows moved the fingerprint
    lightspeed, square = checks["lightspeed"], checks["square"]
    assert lightspeed["ok"] is True and lightspeed["days_checked"] == 14
    assert lightspeed["difference_count"] == 0 and lightspeed["differences"] == []
    assert square["ok"] is False and square["difference_count"] == 7
    assert square["days_checked"] == 84
    assert (square["first_day"], square["last_day"]) == ("2026-03-01", "2026-03-07")
    assert square["differences"] == [
        {
            "location_id": "LOC-A",
            "business_date": f"2026-03-0{1 + i}",
            "field": "total_money",
            "pos": str(1000 + i),
            "database": str(999 + i),
            "location_name": "Harbour <Street>",
            "pos_text": f"10.0{i} USD",  # Square's cents, shown in dollars
            "database_text": f"{9.99 + i / 100:.2f} USD",
        }
        for i in range(5)
    ]
    html = logged_in.get("/").get_data(as_text=True)
    assert re.search(r'data-reconcile="lightspeed".*?>OK<', html, re.S)
    assert re.search(r'data-reconcile="square".*?7 differences', html, re.S)
    table = html.split('data-differences="square"', 1)[1].split("</table>", 1)[0]
    assert table.count("<tr>") == 6  # header + the first five
    assert "first 5 of 7 differences" in table and "currency" in table
    assert "Harbour &lt;Street&gt;" in table and "Harbour <Street>" not in html
    assert "<td>2026-03-05</td><td>Total money</td>" in table
    assert '<td class="num">10.04 USD</td><td class="num">10.03 USD</td>' in table
    assert 'data-differences="lightspeed"' not in html  # nothing to list when OK
