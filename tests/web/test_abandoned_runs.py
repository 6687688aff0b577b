"""Runs closed as `abandoned` (their process was killed) are shown as such: in the history,
its status filter and the card's last run."""

from __future__ import annotations

from datetime import timedelta

from flask.testing import FlaskClient

from possync.db.connection import Database
from tests.web.conftest import put_log, put_state


def test_history_and_card_show_abandoned_runs(logged_in: FlaskClient, db: Database) -> None:
    put_state(db, "lightspeed", "taxes", "failed", timedelta(hours=3))
    put_log(db, "lightspeed", "taxes", "completed", records=3)
    put_log(
        db,
        "lightspeed",
        "taxes",
        "abandoned",
        duration=4.0,
        error="the process running it ended without closing it (killed, e.g. out of memory)",
    )
    page = logged_in.get("/history?status=abandoned").get_data(as_text=True)
    assert '<option value="abandoned" selected>abandoned</option>' in page
    assert page.count('<span class="badge abandoned">abandoned</span>') == 1
    assert "ended without closing it" in page
    assert '<span class="badge completed">' not in page  # the filter applies

    overview = logged_in.get("/").get_data(as_text=True)
    assert "abandoned after 4" in overview
