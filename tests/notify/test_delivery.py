"""Delivery: broken channels never raise, retries after an outage, formats, no secrets."""

from __future__ import annotations

import json
import logging
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from possync.config.settings import Settings
from possync.db.connection import Database
from possync.engine.run import EntityResult
from possync.notify import after_sync, check_health, send_test_message
from possync.notify.scrub import scrub, secret_values
from tests.conftest import make_settings

from .conftest import (
    DASHBOARD_PASSWORD,
    LIGHTSPEED_TOKEN,
    SLACK_TOKEN,
    SMTP_PASSWORD,
    SlackReceiver,
    SmtpInbox,
    free_port,
    mailto_url,
    query,
    record_run,
    report_of,
    start_smtp,
)

T0 = datetime.now(UTC).replace(microsecond=0)
SECRETS = (SMTP_PASSWORD, SLACK_TOKEN, DASHBOARD_PASSWORD, LIGHTSPEED_TOKEN)


def test_smtp_down_never_raises_and_the_alert_is_retried(
    db: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    port = free_port()  # nothing listens here yet
    settings = make_settings(db, tmp_path, notify_urls=mailto_url(port))
    result = record_run(db, "square", "orders", ok=False, at=T0, error="boom")

    with caplog.at_level(logging.WARNING):
        outcome = after_sync(settings, db, report_of(result), now=T0)
    assert outcome.error is None
    assert len(outcome.undelivered) == 1
    [channel] = outcome.messages[0].delivery.channels
    assert channel.service == "E-Mail" and not channel.delivered
    [(notified, error)] = query(
        db, "SELECT last_notified_at, last_delivery_error FROM alert_incidents"
    )
    assert notified is None and error is not None and "URL #1 (E-Mail) failed" in error
    assert "not delivered" in caplog.text and "E-Mail" in caplog.text
    assert SMTP_PASSWORD not in caplog.text + error

    # The server comes back: the next evaluation delivers the opening message, once.
    inbox = SmtpInbox(port=port)
    controller = start_smtp(inbox)
    try:
        check_health(settings, db, now=T0 + timedelta(minutes=15))
        check_health(settings, db, now=T0 + timedelta(minutes=30))
    finally:
        controller.stop()
    assert inbox.subjects == ["possync alert: square orders sync failed"]
    assert query(db, "SELECT kind, delivered FROM alert_messages ORDER BY id") == [
        ("opened", 0),
        ("opened", 1),
    ]


def test_one_broken_channel_does_not_stop_the_others(
    db: Database, tmp_path: Path, slack_receiver: SlackReceiver
) -> None:
    urls = f"{mailto_url(free_port())} not-a-url://x {'slacklocal://T1AAAA/B1BBBB/' + SLACK_TOKEN}"
    settings = make_settings(db, tmp_path, notify_urls=urls)
    result = record_run(db, "square", "orders", ok=False, at=T0, error="boom")
    outcome = after_sync(settings, db, report_of(result), now=T0)
    [message] = outcome.messages
    assert [(c.service, c.delivered) for c in message.delivery.channels] == [
        ("E-Mail", False),
        ("unknown service", False),
        ("Slack", True),
    ]
    assert message.delivery.channels[1].error == "not a valid apprise URL"
    assert len(slack_receiver.posts) == 1
    # Delivered somewhere: the incident is announced and not re-sent.
    check_health(settings, db, now=T0 + timedelta(minutes=5))
    assert len(slack_receiver.posts) == 1


def test_no_secret_reaches_any_message(
    alert_settings: Settings, db: Database, smtp_inbox: SmtpInbox, slack_receiver: SlackReceiver
) -> None:
    leaky = (
        f"auth failed for {LIGHTSPEED_TOKEN} via {SMTP_PASSWORD}/{SLACK_TOKEN} {DASHBOARD_PASSWORD}"
    )
    result = record_run(db, "lightspeed", "sales", ok=False, at=T0, error=leaky)
    after_sync(alert_settings, db, report_of(result), now=T0)
    record_run(db, "lightspeed", "sales", ok=True, at=T0 + timedelta(hours=1))
    check_health(alert_settings, db, now=T0 + timedelta(hours=1))

    assert len(smtp_inbox.messages) == 2 and len(slack_receiver.posts) == 2
    delivered = [m.as_string() for m in smtp_inbox.messages]
    delivered += [smtp_inbox.bodies(i)[n] for i in range(2) for n in (0, 1)]
    delivered += [json.dumps(payload) for _, payload in slack_receiver.posts]
    stored = query(db, "SELECT detail FROM alert_incident_entities")
    for content in [*delivered, repr(stored)]:
        for secret in SECRETS:
            assert secret not in content
    text, _ = smtp_inbox.bodies(0)
    assert "auth failed for *** via ***/*** ***" in text


def test_scrub_catches_escaped_and_quoted_forms(db: Database, tmp_path: Path) -> None:
    password = "p&ss<w>rd/42"
    settings = make_settings(db, tmp_path, dashboard_password=password)
    secrets = secret_values(settings)
    assert scrub(f"a {password} b p&amp;ss&lt;w&gt;rd/42 c p%26ss%3Cw%3Erd%2F42", secrets) == (
        "a *** b *** c ***"
    )


def test_email_is_html_with_a_text_alternative_and_slack_gets_text(
    alert_settings: Settings, db: Database, smtp_inbox: SmtpInbox, slack_receiver: SlackReceiver
) -> None:
    result = record_run(db, "square", "payments", ok=False, at=T0, error="<bad> & worse")
    after_sync(alert_settings, db, report_of(result), now=T0)

    [message] = smtp_inbox.messages
    assert message.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in message.iter_parts()] == [
        "text/plain",
        "text/html",
    ]
    assert message["From"] == "possync@shop.example" and message["To"] == "ops@shop.example"
    text, html = smtp_inbox.bodies(0)
    assert "<li" in html and "&lt;bad&gt; &amp; worse" in html
    assert "square" in text and "payments" in text and "<bad> & worse" in text
    assert "https://possync.shop.example:8443" in text  # the link survives in plain text

    [(path, payload)] = slack_receiver.posts
    assert path == f"/services/T0LOCAL1/B0LOCAL2/{SLACK_TOKEN}"  # the webhook, as Slack's
    attachment = payload["attachments"][0]
    assert attachment["title"] == "possync alert: square payments sync failed"
    assert "- square payments: sync failed" in attachment["text"]
    assert "Error: <bad> & worse" in attachment["text"] or "&lt;bad&gt;" in attachment["text"]
    assert attachment["footer"] == "possync"
    assert "<li" not in attachment["text"]


def test_test_message_reaches_every_channel(
    alert_settings: Settings, smtp_inbox: SmtpInbox, slack_receiver: SlackReceiver
) -> None:
    delivery = send_test_message(alert_settings)
    assert [(c.service, c.delivered) for c in delivery.channels] == [
        ("E-Mail", True),
        ("Slack", True),
    ]
    assert smtp_inbox.subjects == ["possync test message"]
    assert slack_receiver.titles == ["possync test message"]


def test_after_sync_never_raises_without_a_database(tmp_path: Path) -> None:
    unreachable = Database("postgresql://u:dbpass-991@127.0.0.1:1/x", "public")
    settings = make_settings(unreachable, tmp_path, notify_urls="json://127.0.0.1:1/hook")
    result = EntityResult("square", "orders", uuid.uuid4(), "failed", "incremental_sync")
    outcome = after_sync(settings, unreachable, report_of(result))
    assert outcome.error is not None and "cannot connect to PostgreSQL" in outcome.error
    assert "dbpass-991" not in outcome.error
