"""Real alert endpoints on loopback: an SMTP server (aiosmtpd) and a Slack webhook receiver.

Slack: apprise's own Slack plugin builds the payload; a subclass registered for the
`slacklocal://` scheme only swaps Slack's webhook base (https://hooks.slack.com/services) for
the local receiver, so the bytes that arrive are exactly what Slack would get.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

# The loopback SMTP server is shared with the secret scan (bench/trials); the alerts tests
# import it from here.
from bench.trials.endpoints import SLACK_TOKEN as SLACK_TOKEN
from bench.trials.endpoints import SLACK_URL as SLACK_URL
from bench.trials.endpoints import SMTP_PASSWORD as SMTP_PASSWORD
from bench.trials.endpoints import SmtpInbox as SmtpInbox
from bench.trials.endpoints import local_slack_webhook
from bench.trials.endpoints import mailto_url as mailto_url
from bench.trials.endpoints import start_smtp as start_smtp
from bench.trials.serving import free_port as free_port

from possync.config.settings import Settings
from possync.db.connection import Database
from possync.db.state import RunCounters
from possync.engine.run import EntityResult, SyncReport
from tests.conftest import make_settings

DASHBOARD_PASSWORD = "dashboard-hunter2-5521"
LIGHTSPEED_TOKEN = "lsp_personal_token_4477"
DASHBOARD_URL = "https://possync.shop.example:8443"


@dataclass
class SlackReceiver:
    """JSON posts the local Slack-format webhook received."""

    port: int
    posts: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    @property
    def titles(self) -> list[str]:
        return [payload["attachments"][0]["title"] for _, payload in self.posts]


@pytest.fixture
def smtp_inbox() -> Iterator[SmtpInbox]:
    inbox = SmtpInbox(port=free_port())
    controller = start_smtp(inbox)
    yield inbox
    controller.stop()


@pytest.fixture
def slack_receiver() -> Iterator[SlackReceiver]:
    receiver = SlackReceiver(port=0)

    def keep(path: str, body: bytes) -> None:
        receiver.posts.append((path, json.loads(body)))

    with local_slack_webhook(keep) as port:
        receiver.port = port
        yield receiver


@pytest.fixture
def alert_settings(
    db: Database, tmp_path: Path, smtp_inbox: SmtpInbox, slack_receiver: SlackReceiver
) -> Settings:
    """Alerts to the loopback SMTP server and the Slack receiver; secrets set to be leaked."""
    return make_settings(
        db,
        tmp_path,
        notify_urls=f"{mailto_url(smtp_inbox.port)}, {SLACK_URL}",
        dashboard_url=DASHBOARD_URL,
        dashboard_password=DASHBOARD_PASSWORD,
        lightspeed_token=LIGHTSPEED_TOKEN,  # no Lightspeed URL: not a configured source
    )


def record_run(
    db: Database,
    source: str,
    entity: str,
    *,
    ok: bool,
    at: datetime,
    error: str | None = None,
    created_at: datetime | None = None,
) -> EntityResult:
    """Write what the engine writes when a run of (source, entity) ends; return its result."""
    run_id = uuid.uuid4()
    status = "completed" if ok else "failed"
    with psycopg.connect(db.url, autocommit=True) as conn:
        conn.execute(
            """INSERT INTO sync_state (source, entity_type, status, last_sync_time,
                                       last_attempt_time, error_message, last_run_id, created_at)
               VALUES (%(source)s, %(entity)s, %(state)s, %(success)s, %(at)s, %(error)s,
                       %(run)s, %(created)s)
               ON CONFLICT (source, entity_type) DO UPDATE SET
                   status = EXCLUDED.status,
                   last_sync_time = COALESCE(EXCLUDED.last_sync_time, sync_state.last_sync_time),
                   last_attempt_time = EXCLUDED.last_attempt_time,
                   error_message = EXCLUDED.error_message, last_run_id = EXCLUDED.last_run_id,
                   updated_at = now()""",
            {
                "source": source,
                "entity": entity,
                "state": "success" if ok else "failed",
                "success": at if ok else None,
                "at": at,
                "error": error,
                "run": run_id,
                "created": created_at or at - timedelta(minutes=5),
            },
        )
        conn.execute(
            """INSERT INTO sync_log (run_id, source, "timestamp", entity_type, action, status,
                                     duration_seconds, records_processed, error_details,
                                     finished_at)
               VALUES (%s, %s, %s, %s, 'incremental_sync', %s, 1.5, %s, %s, %s)""",
            (run_id, source, at, entity, status, 10 if ok else 0, error, at),
        )
    return EntityResult(
        source=source,
        entity=entity,
        run_id=run_id,
        status=status,
        action="incremental_sync",
        counters=RunCounters(records=10 if ok else 0),
        error=error,
    )


def report_of(*results: EntityResult) -> SyncReport:
    return SyncReport(source=results[0].source, dry_run=False, results=list(results))


def set_never_synced(db: Database, source: str, entity: str, created_at: datetime) -> None:
    """A sync_state row that exists but never succeeded (what the engine creates first)."""
    with psycopg.connect(db.url, autocommit=True) as conn:
        conn.execute(
            """INSERT INTO sync_state (source, entity_type, created_at) VALUES (%s, %s, %s)""",
            (source, entity, created_at),
        )


def query(db: Database, sql: str, *params: object) -> list[tuple[Any, ...]]:
    with psycopg.connect(db.url) as conn:
        return conn.execute(sql, params).fetchall()
