"""Numbers people can read: progress as a share of a known total (else the page), "1 page"
not "1 pages", money in currency units with its currency, and "Sync everything" showing as
running only on the entity it is on."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from possync.config.settings import Settings
from possync.db.connection import Database
from possync.money import money_text
from possync.web import create_app
from possync.web.filters import count_of, progress_text
from possync.web.status_data import ActiveJob, Card, job_state_for
from tests.web.conftest import log_in, put_state


def test_progress_shows_the_share_when_the_total_is_known_else_the_page() -> None:
    assert progress_text({"records": 450, "pages": 3, "estimated_total": 1000}) == (
        "45% · 450 of ~1,000 records · page 3"
    )
    # An estimate that falls short never claims to be done.
    assert progress_text({"records": 1200, "pages": 9, "estimated_total": 1000}).startswith("99% ")
    assert progress_text({"records": 1, "pages": 1, "estimated_total": None}) == "1 record · page 1"
    assert progress_text({"records": 2500, "pages": 12}) == "2,500 records · page 12"


def test_counts_are_singular_for_one() -> None:
    assert [count_of(n, "page") for n in (0, 1, 2, 1500)] == [
        "0 pages",
        "1 page",
        "2 pages",
        "1,500 pages",
    ]


def test_money_reads_in_currency_units_with_its_currency() -> None:
    assert money_text("120050", "USD", minor_units=True) == "1,200.50 USD"  # Square cents
    assert money_text("1200", "JPY", minor_units=True) == "1,200 JPY"  # no minor unit
    assert money_text("1200.5", "NZD", minor_units=False) == "1,200.50 NZD"  # Lightspeed
    assert money_text("-35", None, minor_units=True) == "-0.35"


def _card(entity: str, sync_entity: str | None = None) -> Card:
    return Card(
        source="lightspeed",
        entity=entity,
        status="success",
        health="green",
        last_sync_time=None,
        last_attempt_time=None,
        records_total=0,
        error_message=None,
        last_run=None,
        sync_entity=sync_entity or entity,
    )


def test_sync_everything_marks_as_running_only_what_runs() -> None:
    everything_running = [ActiveJob(1, "doing", "lightspeed", "")]
    # The whole-source job is on some entity; the card of that entity shows its live run (the
    # API marks it "doing" from the run); no other card claims to be running.
    assert job_state_for(_card("outlets"), everything_running) is None
    assert job_state_for(_card("sale_line_items", "sales"), everything_running) is None
    waiting = [ActiveJob(2, "todo", "lightspeed", "")]
    assert job_state_for(_card("outlets"), waiting) == "todo"
    one_entity = [ActiveJob(3, "doing", "lightspeed", "sales")]
    assert job_state_for(_card("sale_line_items", "sales"), one_entity) == "doing"
    assert job_state_for(_card("outlets"), one_entity) is None


def test_the_overview_names_per_entity_thresholds_and_colours_by_them(
    db: Database, tmp_path: Path, web_settings: Settings
) -> None:
    settings = web_settings.model_copy(update={"health_thresholds": "sales=30m/1h"})
    put_state(db, "lightspeed", "sales", "success", timedelta(minutes=45))
    put_state(db, "lightspeed", "users", "success", timedelta(minutes=45))
    app = create_app(settings, db)
    try:
        client = app.test_client()
        assert log_in(client).status_code == 302
        status = client.get("/api/status").get_json()
        health = {card["key"]: card["health"] for card in status["cards"]}
        assert (health["lightspeed/sales"], health["lightspeed/users"]) == ("yellow", "green")
        assert status["thresholds"]["per_entity"] == {
            "lightspeed/sales": {"green_hours": 0.5, "yellow_hours": 1.0}
        }
        html = client.get("/").get_data(as_text=True)
        assert "(own thresholds:\n  Sales 30 min/1 h)" in html
    finally:
        app.extensions["possync"].job_queue.close()
