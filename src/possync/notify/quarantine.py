"""An alert when a run puts records into quarantine that were not there before.

One message per incident: a run whose records are quarantined for the first time (a record
already in quarantine and seen again does not alert again). It names each entity, how many
new records, a few of their reasons, and links to the dashboard's quarantine page. Nothing
here raises: an alert must never fail the sync it reports on.
"""

from __future__ import annotations

import html
import logging
from typing import Any

from possync.config.settings import Settings
from possync.db.connection import Database
from possync.db.queries import query
from possync.notify.delivery import send_message
from possync.notify.messages import finish_message
from possync.notify.model import AlertMessage, SentMessage, SyncReportLike

logger = logging.getLogger(__name__)

SAMPLE_REASONS = 3


def quarantine_alerts(
    settings: Settings, db: Database, report: SyncReportLike
) -> list[SentMessage]:
    """Send the message for the records this run quarantined for the first time, if any."""
    run_ids = [str(run_id) for r in report.results if (run_id := getattr(r, "run_id", None))]
    if not run_ids or not settings.notify_url_list:
        return []
    try:
        with db.connect() as conn:
            rows = conn.execute(
                query("new_quarantined_by_entity"), (SAMPLE_REASONS, run_ids)
            ).fetchall()
        if not rows:
            return []
        message = _message(settings, rows)
        return [SentMessage(message.kind, message.title, None, send_message(settings, message))]
    except Exception as exc:  # alerts never fail a sync
        logger.warning("the quarantine alert could not be sent: %s", type(exc).__name__)
        return []


def _message(settings: Settings, rows: list[tuple[Any, ...]]) -> AlertMessage:
    total = sum(int(row[2]) for row in rows)
    names = ", ".join(f"{source} {entity.replace('_', ' ')}" for source, entity, *_ in rows)
    title = f"possync: {total} new record{'s' if total != 1 else ''} in quarantine ({names})"
    text = [
        "Records failed validation and were quarantined; the rest of their pages loaded.",
        "",
    ]
    parts = [f"<p>{html.escape(text[0])}</p>"]
    for source, entity, count, samples in rows:
        heading = f"{source} {entity.replace('_', ' ')}: {count} new"
        text.append(heading)
        text.extend(f"  - {sample}" for sample in samples)
        items = "".join(f"<li>{html.escape(sample)}</li>" for sample in samples)
        parts.append(f"<p><b>{html.escape(heading)}</b></p><ul>{items}</ul>")
    text.append("")
    where = f"{settings.dashboard_url.rstrip('/')}/quarantine"
    footer = f"Every quarantined record, its reason and payload: {where}"
    return finish_message(settings, "quarantine", "warning", title, text, parts, footer)
