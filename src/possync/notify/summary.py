"""The optional daily summary (POSSYNC_DAILY_SUMMARY): once per local day, from the hour
POSSYNC_DAILY_SUMMARY_HOUR on, every entity's health plus the last 24 hours of runs."""

from __future__ import annotations

import html
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
from psycopg.rows import dict_row

from possync.config.settings import Settings
from possync.db.queries import query
from possync.health.status import GREEN, RED, YELLOW, read_entity_statuses
from possync.notify import incidents, messages
from possync.notify.incidents import Sender
from possync.notify.model import AlertMessage, NotifyLevel, SentMessage


def send_daily_summary_if_due(
    conn: psycopg.Connection[Any], settings: Settings, now: datetime, send: Sender
) -> list[SentMessage]:
    """Send today's summary unless it is off, too early, or already delivered today."""
    if not settings.daily_summary or not settings.notify_url_list:
        return []
    local_now = now.astimezone(ZoneInfo(settings.timezone))
    if local_now.hour < settings.daily_summary_hour:
        return []
    dedupe_key = f"daily_summary:{local_now.date().isoformat()}"
    sent = conn.execute(query("message_sent"), (dedupe_key,))
    if sent.fetchone() is not None:
        return []
    message = daily_summary(conn, settings, now, local_now.date())
    delivery = send(message)
    incidents.record_message(conn, None, message, delivery, now, dedupe_key=dedupe_key)
    return [SentMessage(message.kind, message.title, None, delivery)]


def daily_summary(
    conn: psycopg.Connection[Any], settings: Settings, now: datetime, day: date
) -> AlertMessage:
    """Compose the summary for `day` from sync_state, sync_log and the open incidents."""
    states = read_entity_statuses(conn, settings, as_of=now)
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(query("run_counts_between"), (now - timedelta(hours=24), now))
        runs = cur.fetchone() or {"completed": 0, "failed": 0, "records": 0}
    open_now = incidents.open_incidents(conn)
    colours = [state.health for state in states]
    counts = {colour: colours.count(colour) for colour in (GREEN, YELLOW, RED)}
    title = (
        f"possync daily summary {day.isoformat()}: {counts[GREEN]} green, "
        f"{counts[YELLOW]} yellow, {counts[RED]} red"
    )
    runs_line = (
        f"Last 24 h: {runs['completed']} entity runs completed, {runs['failed']} failed, "
        f"{runs['records']} records synced."
    )
    incident_line = (
        "Open incidents: "
        + ", ".join(f"#{i.id} since {messages.local_time(settings, i.opened_at)}" for i in open_now)
        if open_now
        else "No open incidents."
    )
    text = [runs_line, incident_line, ""]
    items = []
    for state, colour in zip(states, colours, strict=True):
        last = state.last_sync_time
        last_text = messages.local_time(settings, last) if last else "never"
        name = f"{state.source} {state.entity_type}"
        line = f"{name}: {colour}, last success {last_text}, {state.records_total} rows"
        text.append(f"- {line}")
        items.append(messages.html_item([html.escape(line)]))
    if not states:
        text.append("No entity has synced yet.")
    text.append("")
    body = [
        f"<p>{html.escape(runs_line)}<br>{html.escape(incident_line)}</p>",
        messages.html_list(items),
    ]
    level: NotifyLevel = "success" if counts[RED] == 0 and not open_now else "warning"
    return messages.finish_message(settings, "daily_summary", level, title, text, body, "")
