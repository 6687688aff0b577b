"""Reconciliation mismatches and the daily summary, through the same incident machinery."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from possync.config.settings import Settings
from possync.db.connection import Database
from possync.notify import (
    ReconciliationMismatch,
    check_health,
    report_reconciliation,
    report_reconciliation_mismatch,
)
from tests.conftest import make_settings

from .conftest import (
    LIGHTSPEED_TOKEN,
    SlackReceiver,
    SmtpInbox,
    mailto_url,
    query,
    record_run,
)

T0 = datetime.now(UTC).replace(microsecond=0)
MISMATCH = "API 1204 sales totalling 52310.00; database 1203 totalling 52290.00"


def test_a_mismatch_alerts_once_and_recovers_once(
    alert_settings: Settings, db: Database, smtp_inbox: SmtpInbox, slack_receiver: SlackReceiver
) -> None:
    record_run(db, "lightspeed", "sales", ok=True, at=T0 - timedelta(minutes=30))
    mismatch = ReconciliationMismatch("lightspeed", "sales", f"{MISMATCH} ({LIGHTSPEED_TOKEN})")
    outcome = report_reconciliation_mismatch(alert_settings, db, mismatch, now=T0)
    assert outcome.error is None and len(outcome.messages) == 1
    report_reconciliation_mismatch(alert_settings, db, mismatch, now=T0 + timedelta(hours=1))
    # A health check sees healthy syncs: it neither sends nor closes the reconciliation incident.
    assert check_health(alert_settings, db, now=T0 + timedelta(hours=1)).messages == []

    assert smtp_inbox.subjects == ["possync alert: lightspeed sales does not reconcile"]
    assert slack_receiver.titles == smtp_inbox.subjects
    text, _ = smtp_inbox.bodies(0)
    assert f"Details: {MISMATCH} (***)" in text
    assert "Last success: " in text and "(30 min ago)" in text
    assert LIGHTSPEED_TOKEN not in text

    # The next reconciliation of sales matches: one recovery message.
    outcome = report_reconciliation(
        alert_settings, db, [], checked=[("lightspeed", "sales")], now=T0 + timedelta(hours=2)
    )
    assert outcome.open_incidents == []
    assert smtp_inbox.subjects[1:] == ["possync recovered: lightspeed sales reconciles again"]
    assert query(db, "SELECT kind, closed_at IS NOT NULL FROM alert_incidents") == [
        ("reconciliation", True)
    ]


def test_several_mismatches_are_one_message_and_unchecked_ones_stay_open(
    alert_settings: Settings, db: Database, smtp_inbox: SmtpInbox
) -> None:
    mismatches = [
        ReconciliationMismatch("lightspeed", "sales", MISMATCH),
        ReconciliationMismatch("lightspeed", "inventory", "API 310 rows, database 309"),
    ]
    report_reconciliation(alert_settings, db, mismatches, now=T0)
    assert smtp_inbox.subjects == [
        "possync alert: 2 entities do not reconcile (lightspeed inventory, lightspeed sales)"
    ]
    # Only sales was checked again and matched: inventory keeps the incident open.
    outcome = report_reconciliation(
        alert_settings, db, [], checked=[("lightspeed", "sales")], now=T0 + timedelta(hours=1)
    )
    assert len(outcome.open_incidents) == 1 and outcome.messages == []
    outcome = report_reconciliation(
        alert_settings, db, [], checked=[("lightspeed", "inventory")], now=T0 + timedelta(hours=2)
    )
    assert outcome.open_incidents == []
    assert smtp_inbox.subjects[1] == "possync recovered: all 2 entities reconcile again"


def test_the_daily_summary_is_sent_once_a_day_from_its_hour(
    db: Database, tmp_path: Path, smtp_inbox: SmtpInbox
) -> None:
    settings = make_settings(
        db,
        tmp_path,
        notify_urls=mailto_url(smtp_inbox.port),
        daily_summary=True,
        daily_summary_hour=8,
        timezone="Europe/Paris",  # UTC+1 in winter
    )
    day = datetime(2030, 1, 15, tzinfo=UTC)
    record_run(db, "lightspeed", "sales", ok=True, at=day + timedelta(hours=6))
    record_run(db, "lightspeed", "customers", ok=False, at=day + timedelta(hours=6), error="boom")

    check_health(settings, db, now=day + timedelta(hours=6, minutes=30))  # 07:30 in Paris
    summaries = [s for s in smtp_inbox.subjects if "summary" in s]
    assert summaries == []
    for hour in (7, 9, 22):  # 08:00, 10:00, 23:00 in Paris
        check_health(settings, db, now=day + timedelta(hours=hour))
    summaries = [s for s in smtp_inbox.subjects if "summary" in s]
    assert summaries == ["possync daily summary 2030-01-15: 1 green, 0 yellow, 1 red"]
    index = smtp_inbox.subjects.index(summaries[0])
    text, _ = smtp_inbox.bodies(index)
    assert "Last 24 h: 1 entity runs completed, 1 failed, 10 records synced." in text
    assert "lightspeed customers: red" in text and "lightspeed sales: green" in text
    assert "Open incidents: #1 since 2030-01-15 07:30 CET" in text

    check_health(settings, db, now=day + timedelta(days=1, hours=7))  # next day, 08:00 Paris
    summaries = [s for s in smtp_inbox.subjects if "summary" in s]
    assert len(summaries) == 2 and summaries[1].startswith("possync daily summary 2030-01-16")
    assert query(db, "SELECT count(*) FROM alert_messages WHERE kind = 'daily_summary'") == [(2,)]
