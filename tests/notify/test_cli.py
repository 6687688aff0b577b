"""`possync alerts …` in process (the loopback Slack scheme is registered in this process)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from possync.cli.main import main
from possync.db.connection import Database

from .conftest import (
    SLACK_URL,
    SMTP_PASSWORD,
    SlackReceiver,
    SmtpInbox,
    free_port,
    mailto_url,
    record_run,
)

RunAlerts = Callable[..., Result]


@pytest.fixture
def run_alerts(db: Database, tmp_path: Path, isolated_env: Path) -> RunAlerts:
    """Run `possync alerts ARGS` against this test's database, no developer settings."""

    def run(*args: str, **settings: str) -> Result:
        env = {"POSSYNC_DATABASE_URL": db.url, "POSSYNC_DATA_DIR": str(tmp_path), **settings}
        return CliRunner().invoke(main, ["alerts", *args], env=env)

    return run


def test_alerts_test_reports_every_channel(
    run_alerts: RunAlerts, smtp_inbox: SmtpInbox, slack_receiver: SlackReceiver
) -> None:
    urls = f"{mailto_url(smtp_inbox.port)},{SLACK_URL}"
    result = run_alerts("test", "--json", POSSYNC_NOTIFY_URLS=urls)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {
        "channels": [
            {"url": 1, "service": "E-Mail", "delivered": True, "error": None},
            {"url": 2, "service": "Slack", "delivered": True, "error": None},
        ]
    }
    assert smtp_inbox.subjects == ["possync test message"]
    assert len(slack_receiver.posts) == 1


def test_alerts_test_exits_1_when_a_channel_fails(run_alerts: RunAlerts) -> None:
    result = run_alerts("test", POSSYNC_NOTIFY_URLS=mailto_url(free_port()))
    assert result.exit_code == 1
    assert "URL #1 (E-Mail) failed" in result.output
    assert SMTP_PASSWORD not in result.output


def test_alerts_test_without_urls_says_what_to_set(run_alerts: RunAlerts) -> None:
    result = run_alerts("test")
    assert result.exit_code == 2
    assert "POSSYNC_NOTIFY_URLS is empty" in result.output


def test_alerts_check_sends_once_and_status_shows_the_incident(
    run_alerts: RunAlerts, db: Database, smtp_inbox: SmtpInbox
) -> None:
    record_run(db, "square", "orders", ok=True, at=datetime.now(UTC) - timedelta(hours=13))
    urls = mailto_url(smtp_inbox.port)
    first = run_alerts("check", "--json", POSSYNC_NOTIFY_URLS=urls)
    assert first.exit_code == 0, first.output
    data = json.loads(first.output)
    assert [(p["entity"], p["problem"]) for p in data["problems"]] == [("orders", "stale")]
    assert [(m["kind"], m["delivered"]) for m in data["messages"]] == [("opened", 1)]

    second = run_alerts("check", POSSYNC_NOTIFY_URLS=urls)
    assert second.exit_code == 0, second.output
    assert "square orders: stale" in second.output and "nothing due" in second.output
    assert len(smtp_inbox.messages) == 1

    status = run_alerts("status", "--json", POSSYNC_NOTIFY_URLS=urls)
    assert status.exit_code == 0, status.output
    data = json.loads(status.output)
    assert data["channels"] == ["E-Mail"]
    [incident] = data["open_incidents"]
    assert incident["kind"] == "sync_health" and incident["messages_sent"] == 1
    assert [e["entity"] for e in incident["entities"]] == ["orders"]
    assert [m["kind"] for m in data["recent_messages"]] == ["opened"]
    assert SMTP_PASSWORD not in status.output


def test_alerts_check_exits_1_when_nothing_was_delivered(
    run_alerts: RunAlerts, db: Database
) -> None:
    record_run(db, "square", "orders", ok=False, at=datetime.now(UTC), error="boom")
    result = run_alerts("check", POSSYNC_NOTIFY_URLS=mailto_url(free_port()))
    assert result.exit_code == 1
    assert "URL #1 (E-Mail) failed" in result.output
