"""Incidents end to end: sync_state as the engine leaves it, real SMTP and Slack endpoints."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

from possync.config.settings import Settings
from possync.db.connection import Database
from possync.notify import AlertOutcome, after_sync, check_health
from possync.sources.registry import entities_for
from tests.conftest import make_settings

from .conftest import (
    DASHBOARD_URL,
    SlackReceiver,
    SmtpInbox,
    mailto_url,
    query,
    record_run,
    report_of,
    set_never_synced,
)

T0 = datetime.now(UTC).replace(microsecond=0)
ERROR = "Lightspeed answered 503 Service Unavailable after 5 retries"


def test_five_failures_send_one_alert_then_one_recovery(
    alert_settings: Settings, db: Database, smtp_inbox: SmtpInbox, slack_receiver: SlackReceiver
) -> None:
    last_success = T0 - timedelta(hours=1)
    record_run(db, "lightspeed", "sales", ok=True, at=last_success)
    for attempt in range(5):
        at = T0 + timedelta(minutes=10 * attempt)
        result = record_run(db, "lightspeed", "sales", ok=False, at=at, error=ERROR)
        outcome = after_sync(alert_settings, db, report_of(result), now=at)
        assert outcome.error is None
        assert [p.problem for p in outcome.problems] == ["failed"]

    assert smtp_inbox.subjects == ["possync alert: lightspeed sales sync failed"]
    assert slack_receiver.titles == ["possync alert: lightspeed sales sync failed"]
    text, html = smtp_inbox.bodies(0)
    for body in (text, html, slack_receiver.posts[0][1]["attachments"][0]["text"]):
        assert "lightspeed" in body and "sales" in body
        assert ERROR in body
        assert DASHBOARD_URL in body
        assert "1 h" in body  # last success, one hour before the first failure
    assert f'href="{DASHBOARD_URL}"' in html
    assert smtp_inbox.logins == ["alerts"]

    recovered_at = T0 + timedelta(hours=1)
    result = record_run(db, "lightspeed", "sales", ok=True, at=recovered_at)
    outcome = after_sync(alert_settings, db, report_of(result), now=recovered_at)
    assert outcome.problems == [] and outcome.open_incidents == []
    assert smtp_inbox.subjects[1:] == ["possync recovered: lightspeed sales is healthy again"]
    assert slack_receiver.titles[1:] == ["possync recovered: lightspeed sales is healthy again"]
    text, _ = smtp_inbox.bodies(1)
    assert "All clear after 1 h" in text

    # Healthy runs afterwards send nothing more.
    after_sync(alert_settings, db, report_of(result), now=recovered_at + timedelta(minutes=15))
    assert len(smtp_inbox.messages) == 2 and len(slack_receiver.posts) == 2
    assert query(db, "SELECT count(*), count(closed_at) FROM alert_incidents") == [(1, 1)]
    assert query(db, "SELECT kind, channels, delivered FROM alert_messages ORDER BY id") == [
        ("opened", 2, 2),
        ("recovered", 2, 2),
    ]


def test_a_stale_entity_alerts_with_no_run_at_all(
    alert_settings: Settings, db: Database, smtp_inbox: SmtpInbox, slack_receiver: SlackReceiver
) -> None:
    # The last run was 13 h ago; the scheduler has been down since (red after 12 h).
    record_run(db, "square", "orders", ok=True, at=T0 - timedelta(hours=13))
    record_run(db, "square", "customers", ok=True, at=T0 - timedelta(hours=1))

    outcome = check_health(alert_settings, db, now=T0)
    assert [(p.source, p.entity, p.problem) for p in outcome.problems] == [
        ("square", "orders", "stale")
    ]
    assert smtp_inbox.subjects == ["possync alert: square orders is stale"]
    assert slack_receiver.titles == smtp_inbox.subjects
    text, _ = smtp_inbox.bodies(0)
    assert "no successful sync for 13 h (red after 12 h)" in text
    assert "customers" not in text

    check_health(alert_settings, db, now=T0 + timedelta(hours=1))
    assert len(smtp_inbox.messages) == 1 and len(slack_receiver.posts) == 1


def test_a_failing_never_synced_entity_is_one_incident(
    alert_settings: Settings, db: Database, smtp_inbox: SmtpInbox, slack_receiver: SlackReceiver
) -> None:
    # Registered 20 h ago, never succeeded (stale by age) and its runs fail: one problem.
    set_never_synced(db, "lightspeed", "products", created_at=T0 - timedelta(hours=20))
    result = record_run(db, "lightspeed", "products", ok=False, at=T0, error=ERROR)
    outcome = after_sync(alert_settings, db, report_of(result), now=T0)
    assert [(p.entity, p.problem) for p in outcome.problems] == [("products", "failed")]
    check_health(alert_settings, db, now=T0 + timedelta(hours=2))
    result = record_run(db, "lightspeed", "products", ok=False, at=T0 + timedelta(hours=3))
    after_sync(alert_settings, db, report_of(result), now=T0 + timedelta(hours=3))

    assert smtp_inbox.subjects == ["possync alert: lightspeed products sync failed"]
    assert len(slack_receiver.posts) == 1
    text, _ = smtp_inbox.bodies(0)
    assert "Last success: never" in text
    assert query(db, "SELECT count(*) FROM alert_incidents") == [(1,)]
    assert query(db, "SELECT entity_type, problem FROM alert_incident_entities") == [
        ("products", "failed")
    ]


def test_reminders_respect_the_interval_and_name_new_entities(
    alert_settings: Settings, db: Database, smtp_inbox: SmtpInbox
) -> None:
    assert alert_settings.alert_reminder_hours == 6
    record_run(db, "square", "orders", ok=True, at=T0 - timedelta(hours=13))
    check_health(alert_settings, db, now=T0)
    # Another entity fails while the incident is open: it joins it without a message.
    failed = record_run(db, "square", "payments", ok=False, at=T0 + timedelta(hours=2), error=ERROR)
    after_sync(alert_settings, db, report_of(failed), now=T0 + timedelta(hours=2))
    for hours in (1, 3, 5.99):
        check_health(alert_settings, db, now=T0 + timedelta(hours=hours))
    assert len(smtp_inbox.messages) == 1

    check_health(alert_settings, db, now=T0 + timedelta(hours=6))
    assert smtp_inbox.subjects[1] == (
        "possync reminder: 2 entities need attention (square orders, square payments)"
    )
    text, _ = smtp_inbox.bodies(1)
    assert "Still unresolved after 6 h" in text
    assert "- square payments: sync failed (new)" in text
    assert "- square orders: stale: no successful sync for 19 h" in text

    for hours in (7, 11.9):
        check_health(alert_settings, db, now=T0 + timedelta(hours=hours))
    assert len(smtp_inbox.messages) == 2
    check_health(alert_settings, db, now=T0 + timedelta(hours=12))
    assert len(smtp_inbox.messages) == 3
    text, _ = smtp_inbox.bodies(2)
    assert "(new)" not in text  # payments was named in the previous reminder

    # Orders recovers, payments still fails: the next reminder says so.
    record_run(db, "square", "orders", ok=True, at=T0 + timedelta(hours=13))
    check_health(alert_settings, db, now=T0 + timedelta(hours=18))
    assert smtp_inbox.subjects[3] == "possync reminder: square payments sync failed"
    text, _ = smtp_inbox.bodies(3)
    assert "Healthy again: square orders." in text


def test_no_reminders_when_the_interval_is_zero(
    db: Database, tmp_path: Path, smtp_inbox: SmtpInbox
) -> None:
    settings = make_settings(
        db, tmp_path, notify_urls=mailto_url(smtp_inbox.port), alert_reminder_hours=0
    )
    record_run(db, "square", "orders", ok=True, at=T0 - timedelta(hours=13))
    for hours in (0, 6, 24, 72):
        check_health(settings, db, now=T0 + timedelta(hours=hours))
    assert smtp_inbox.subjects == ["possync alert: square orders is stale"]


def test_configured_entities_without_any_row_alert_once_together(
    db: Database, tmp_path: Path, smtp_inbox: SmtpInbox
) -> None:
    # Lightspeed is configured but never ran: sync_state is empty. Nothing is due until the red
    # threshold has passed since installation, then one message names every entity.
    settings = make_settings(
        db,
        tmp_path,
        notify_urls=mailto_url(smtp_inbox.port),
        lightspeed_url="http://127.0.0.1:1/api/2.0",  # never contacted: nothing syncs here
        lightspeed_token="ls-token-1234",
    )
    assert check_health(settings, db, now=T0).problems == []
    outcome = check_health(settings, db, now=T0 + timedelta(hours=13))
    expected = list(entities_for("lightspeed"))
    assert sorted(p.entity for p in outcome.problems) == sorted(expected)
    assert {p.problem for p in outcome.problems} == {"never_synced"}
    assert len(smtp_inbox.messages) == 1
    assert smtp_inbox.subjects[0].startswith(f"possync alert: {len(expected)} entities need")
    text, _ = smtp_inbox.bodies(0)
    for entity in expected:
        assert f"- lightspeed {entity}: never synced successfully" in text


def test_two_processes_evaluating_at_once_send_once(
    alert_settings: Settings, db: Database, smtp_inbox: SmtpInbox, slack_receiver: SlackReceiver
) -> None:
    record_run(db, "square", "orders", ok=True, at=T0 - timedelta(hours=13))
    outcomes: list[AlertOutcome] = []
    start = threading.Barrier(4)

    def evaluate() -> None:
        start.wait()
        outcomes.append(check_health(alert_settings, db, now=T0))

    threads = [threading.Thread(target=evaluate) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(outcomes) == 4
    assert sum(len(outcome.messages) for outcome in outcomes) == 1
    assert len(smtp_inbox.messages) == 1 and len(slack_receiver.posts) == 1
    assert query(db, "SELECT count(*) FROM alert_incidents") == [(1,)]
