"""Incidents: problems grouped into one streak of trouble, and the messages they are due.

One open incident per kind lists every affected entity. It is announced once when it opens,
reminded at most every POSSYNC_ALERT_REMINDER_HOURS, and closed with one recovery message when
no entity is affected any more. Entities that go bad while it is open join it silently and are
named (as new) in the next reminder.

Callers hold `lock_alerts()` in the transaction that runs `update_incident()`: the decision,
the send and the record of the send happen under one PostgreSQL lock, so two processes
evaluating at once never send the same message twice.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from datetime import datetime, timedelta
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import class_row

from possync.config.settings import Settings
from possync.db.queries import query, template
from possync.health.status import read_entity_statuses
from possync.notify import messages
from possync.notify.model import (
    AlertMessage,
    Delivery,
    EntityKey,
    EntityProblem,
    Incident,
    IncidentEntity,
    IncidentKind,
    SentMessage,
)

ALERTS_LOCK_NAME = "possync:alerts"  # with the schema: one alert evaluation per shop at a time

Sender = Callable[[AlertMessage], Delivery]


def lock_alerts(conn: psycopg.Connection[Any]) -> None:
    """Wait for other evaluations of the same shop (the schema first on the search path);
    released when the current transaction ends."""
    conn.execute(query("lock_alerts"), (ALERTS_LOCK_NAME,))


def update_incident(
    conn: psycopg.Connection[Any],
    settings: Settings,
    kind: IncidentKind,
    problems: Sequence[EntityProblem],
    *,
    now: datetime,
    send: Sender,
    checked: Collection[EntityKey] | None = None,
) -> list[SentMessage]:
    """Record `problems` on the open incident of `kind` and send what is due.

    `checked` is the set of entities the observation covered: those without a problem are
    resolved. None means the observation covered everything (a full health check).
    """
    incident = _open_incident(conn, kind)
    if incident is None:
        if not problems:
            return []
        incident = _create_incident(conn, kind, now)
    _record_problems(conn, incident.id, problems, now)
    bad = {problem.key for problem in problems}
    if checked is None:
        _resolve(conn, settings, incident.id, now, keep=bad)
    else:
        resolved = [key for key in checked if key not in bad]
        _resolve(conn, settings, incident.id, now, only=resolved)
    entities = incident_entities(conn, incident.id)
    if not any(entity.active for entity in entities):
        _close_incident(conn, incident.id, now)
        if incident.last_notified_at is None:
            return []  # nobody was told it opened: a recovery would only confuse
        message = messages.recovered(settings, incident, entities, now)
        return _deliver(conn, settings, incident, message, now, send)
    if incident.last_notified_at is None:
        message = messages.opened(settings, incident, entities, now)
    elif _reminder_due(settings, incident, now):
        message = messages.reminder(settings, incident, entities, now)
    else:
        return []
    return _deliver(conn, settings, incident, message, now, send)


def open_incidents(conn: psycopg.Connection[Any]) -> list[Incident]:
    """Incidents not yet closed, oldest first."""
    with conn.cursor(row_factory=class_row(Incident)) as cur:
        cur.execute(query("open_incidents"))
        return cur.fetchall()


def recent_incidents(conn: psycopg.Connection[Any], limit: int) -> list[Incident]:
    """The latest incidents, open or closed, newest first."""
    with conn.cursor(row_factory=class_row(Incident)) as cur:
        cur.execute(query("recent_incidents"), (limit,))
        return cur.fetchall()


def incident_entities(conn: psycopg.Connection[Any], incident_id: int) -> list[IncidentEntity]:
    """The entities of an incident, ordered by source then entity."""
    with conn.cursor(row_factory=class_row(IncidentEntity)) as cur:
        cur.execute(query("incident_entities"), (incident_id,))
        return cur.fetchall()


def record_message(
    conn: psycopg.Connection[Any],
    incident_id: int | None,
    message: AlertMessage,
    delivery: Delivery,
    now: datetime,
    *,
    dedupe_key: str | None = None,
) -> None:
    """Keep a record of a message attempt; `dedupe_key` only sticks once it was delivered."""
    conn.execute(
        query("record_message"),
        (
            incident_id,
            message.kind,
            message.title,
            now,
            len(delivery.channels),
            delivery.delivered,
            delivery.errors,
            dedupe_key if delivery.delivered else None,
        ),
    )


def _open_incident(conn: psycopg.Connection[Any], kind: IncidentKind) -> Incident | None:
    with conn.cursor(row_factory=class_row(Incident)) as cur:
        cur.execute(query("open_incident_of_kind"), (kind,))
        return cur.fetchone()


def _create_incident(conn: psycopg.Connection[Any], kind: IncidentKind, now: datetime) -> Incident:
    with conn.cursor(row_factory=class_row(Incident)) as cur:
        cur.execute(query("create_incident"), (kind, now))
        created = cur.fetchone()
    assert created is not None  # INSERT … RETURNING always returns the row
    return created


def _record_problems(
    conn: psycopg.Connection[Any],
    incident_id: int,
    problems: Sequence[EntityProblem],
    now: datetime,
) -> None:
    with conn.cursor() as cur:
        cur.executemany(
            query("record_incident_problem"),
            [
                (incident_id, p.source, p.entity, p.problem, p.detail, p.last_sync_time, now, now)
                for p in problems
            ],
        )


def _resolve(
    conn: psycopg.Connection[Any],
    settings: Settings,
    incident_id: int,
    now: datetime,
    *,
    keep: Collection[EntityKey] = (),
    only: Collection[EntityKey] | None = None,
) -> None:
    """Mark entities healthy again (all but `keep`, or just `only`), with their last success."""
    keys = list(only if only is not None else keep)
    membership = sql.SQL("IN" if only is not None else "NOT IN")
    states = read_entity_statuses(conn, settings)
    conn.execute(
        template("resolve_incident_entities").format(membership=membership),
        (
            now,
            [state.source for state in states],
            [state.entity_type for state in states],
            [state.last_sync_time for state in states],
            incident_id,
            [source for source, _ in keys],
            [entity for _, entity in keys],
        ),
    )


def _close_incident(conn: psycopg.Connection[Any], incident_id: int, now: datetime) -> None:
    conn.execute(query("close_incident"), (now, incident_id))


def _reminder_due(settings: Settings, incident: Incident, now: datetime) -> bool:
    if settings.alert_reminder_hours <= 0 or incident.last_notified_at is None:
        return False
    return now - incident.last_notified_at >= timedelta(hours=settings.alert_reminder_hours)


def _deliver(
    conn: psycopg.Connection[Any],
    settings: Settings,
    incident: Incident,
    message: AlertMessage,
    now: datetime,
    send: Sender,
) -> list[SentMessage]:
    """Send, then record the attempt and (if anyone got it) what it announced."""
    if not settings.notify_url_list:
        return []  # incidents are still tracked; the message goes out once URLs are set
    delivery = send(message)
    record_message(conn, incident.id, message, delivery, now)
    if delivery.delivered:
        conn.execute(query("incident_notified"), (now, delivery.errors, incident.id))
        conn.execute(query("announce_incident_entities"), (incident.id,))
    else:
        conn.execute(query("incident_delivery_failed"), (delivery.errors, incident.id))
    return [SentMessage(message.kind, message.title, incident.id, delivery)]
