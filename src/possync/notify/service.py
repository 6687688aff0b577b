"""The entry points: after a sync, on a schedule, after a reconciliation, and a test message.

`after_sync` and the reconciliation reports never raise: alerts must never fail the work they
report on. `check_health` raises only when the database is unusable (the caller shows it);
a channel that cannot deliver is recorded on the incident and logged, never raised.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from functools import partial
from typing import Any

import psycopg

from possync.config.settings import Settings
from possync.db.connection import Database, translate_database_error
from possync.db.queries import query
from possync.errors import ConfigError
from possync.notify import incidents, messages
from possync.notify.delivery import send_message
from possync.notify.health import find_sync_problems, last_success_times
from possync.notify.model import (
    AlertOutcome,
    Delivery,
    EntityKey,
    EntityProblem,
    ReconciliationMismatch,
    SentMessage,
    SyncReportLike,
)
from possync.notify.quarantine import quarantine_alerts
from possync.notify.scrub import scrub, secret_values
from possync.notify.summary import send_daily_summary_if_due

logger = logging.getLogger(__name__)


def after_sync(
    settings: Settings, db: Database, report: SyncReportLike, *, now: datetime | None = None
) -> AlertOutcome:
    """Evaluate health after a run and send what is due (and the quarantine alert when the
    run quarantined new records). Never raises."""
    try:
        outcome = _evaluate_health(settings, db, now or _utcnow(), report=report)
    except Exception as exc:
        return could_not_run(settings, db, "after the sync", exc)
    outcome.messages.extend(quarantine_alerts(settings, db, report))
    return outcome


def check_health(
    settings: Settings,
    db: Database,
    now: datetime | None = None,
    *,
    expected: Iterable[EntityKey] | None = None,
) -> AlertOutcome:
    """Evaluate health with no run at all (scheduler, `possync alerts check`).

    Finds failed, stale and never-synced entities (`expected` overrides the configured
    entities), opens, reminds or closes the sync-health incident, and sends the daily summary
    when it is due.
    """
    return _evaluate_health(settings, db, now or _utcnow(), expected=expected)


def report_reconciliation(
    settings: Settings,
    db: Database,
    mismatches: Sequence[ReconciliationMismatch],
    *,
    checked: Iterable[EntityKey] = (),
    now: datetime | None = None,
) -> AlertOutcome:
    """Record a reconciliation's findings: mismatches open (or join) the reconciliation
    incident; `checked` entities without a mismatch are resolved, and the incident closes
    with one recovery message when none is left. Never raises."""
    moment = now or _utcnow()
    try:
        secrets = secret_values(settings)
        with db.connect() as conn, conn.transaction():
            incidents.lock_alerts(conn)
            last = last_success_times(conn, settings, [(m.source, m.entity) for m in mismatches])
            problems = {
                (m.source, m.entity): EntityProblem(
                    m.source,
                    m.entity,
                    "mismatch",
                    scrub(m.details, secrets) or None,
                    last.get((m.source, m.entity)),
                )
                for m in mismatches
            }
            sent = incidents.update_incident(
                conn,
                settings,
                "reconciliation",
                list(problems.values()),
                now=moment,
                send=partial(send_message, settings),
                checked=set(checked) | set(problems),
            )
            open_ids = [incident.id for incident in incidents.open_incidents(conn)]
        return AlertOutcome(list(problems.values()), sent, open_ids)
    except Exception as exc:
        return could_not_run(settings, db, "after the reconciliation", exc)


def report_reconciliation_mismatch(
    settings: Settings,
    db: Database,
    details: ReconciliationMismatch,
    *,
    now: datetime | None = None,
) -> AlertOutcome:
    """Report one mismatch (see `report_reconciliation`). Never raises."""
    return report_reconciliation(settings, db, [details], now=now)


def send_test_message(settings: Settings, now: datetime | None = None) -> Delivery:
    """Send a test message to every configured URL; needs no database."""
    if not settings.notify_url_list and settings.shop_name:
        raise ConfigError(
            f"no alert URLs for shop {settings.shop_name}: set POSSYNC_NOTIFY_URLS (every "
            "shop's), or a registered shop's own with `possync shops set NAME --notify-url URL`"
        )
    if not settings.notify_url_list:
        raise ConfigError(
            "POSSYNC_NOTIFY_URLS is empty: set it to one or more apprise URLs "
            "(mailto://, slack://, …; see docs/alerts.md)"
        )
    return send_message(settings, messages.test_message(settings, now or _utcnow()))


def _evaluate_health(
    settings: Settings,
    db: Database,
    now: datetime,
    *,
    report: SyncReportLike | None = None,
    expected: Iterable[EntityKey] | None = None,
) -> AlertOutcome:
    send = partial(send_message, settings)
    with db.connect() as conn, conn.transaction():
        incidents.lock_alerts(conn)
        problems = find_sync_problems(conn, settings, now, report=report, expected=expected)
        sent = incidents.update_incident(
            conn, settings, "sync_health", problems, now=now, send=send
        )
        sent += send_daily_summary_if_due(conn, settings, now, send)
        open_ids = [incident.id for incident in incidents.open_incidents(conn)]
    return AlertOutcome(problems, sent, open_ids)


def report_unchecked_shops(
    settings: Settings,
    control: Database,
    unchecked: dict[str, str],
    checked: Iterable[str],
    now: datetime | None = None,
) -> list[SentMessage]:
    """The shops whose health could not be checked (name → reason), as one incident in the
    control schema sent to the global alert URLs; the shops in `checked` are resolved."""
    problems = [
        EntityProblem("shop", name, "failed", scrub(reason, secret_values(settings)), None)
        for name, reason in sorted(unchecked.items())
    ]
    covered = [("shop", name) for name in [*checked, *unchecked]]
    send = partial(send_message, settings)
    with control.connect() as conn, conn.transaction():
        incidents.lock_alerts(conn)
        return incidents.update_incident(
            conn, settings, "shops", problems, now=now or _utcnow(), send=send, checked=covered
        )


def could_not_run(settings: Settings, db: Database, when: str, exc: Exception) -> AlertOutcome:
    """The outcome of an evaluation that failed: its reason in one line, scrubbed, logged."""
    if isinstance(exc, psycopg.Error):
        exc = translate_database_error(db.url, exc)
    first_line = (str(exc).splitlines() or [type(exc).__name__])[0]
    reason = scrub(first_line, secret_values(settings))
    logger.warning("alerts could not run %s: %s", when, reason)
    return AlertOutcome(error=reason)


def _utcnow() -> datetime:
    return datetime.now(UTC)


def alert_status(conn: psycopg.Connection[Any], *, limit: int = 10) -> dict[str, Any]:
    """Open incidents with their entities, and the latest messages, as JSON-ready data."""
    open_now = []
    for incident in incidents.open_incidents(conn):
        entities = incidents.incident_entities(conn, incident.id)
        open_now.append(
            {
                "id": incident.id,
                "kind": incident.kind,
                "opened_at": incident.opened_at.isoformat(),
                "last_notified_at": _iso(incident.last_notified_at),
                "messages_sent": incident.messages_sent,
                "last_delivery_error": incident.last_delivery_error,
                "entities": [
                    {
                        "source": e.source,
                        "entity": e.entity,
                        "problem": e.problem,
                        "detail": e.detail,
                        "last_sync_time": _iso(e.last_sync_time),
                        "resolved_at": _iso(e.resolved_at),
                    }
                    for e in entities
                ],
            }
        )
    rows = conn.execute(query("recent_messages"), (limit,)).fetchall()
    recent = [
        {
            "incident_id": incident_id,
            "kind": kind,
            "title": title,
            "sent_at": sent_at.isoformat(),
            "channels": channels,
            "delivered": delivered,
            "errors": errors,
        }
        for incident_id, kind, title, sent_at, channels, delivered, errors in rows
    ]
    return {"open_incidents": open_now, "recent_messages": recent}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
