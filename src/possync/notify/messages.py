"""The words of incident messages: a title, a plain-text body and an HTML body.

Both bodies carry the same facts for each entity (source, entity, problem, error, last success)
and a link to the dashboard. When the shop has a name (a registered shop, or POSSYNC_SHOP_NAME),
every title starts with it in brackets and every body says it first: an agency's inbox holds
alerts of many shops. Times are shown in the shop's time zone. Every message is scrubbed of
secrets as a whole before it leaves here, whatever the inputs were.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from possync.config.settings import Settings
from possync.health.thresholds import thresholds_for
from possync.notify.model import (
    AlertMessage,
    Incident,
    IncidentEntity,
    MessageKind,
    NotifyLevel,
    ProblemKind,
)
from possync.notify.scrub import scrub, secret_values

_SHORT_PROBLEM: dict[ProblemKind, str] = {
    "failed": "sync failed",
    "stale": "is stale",
    "never_synced": "has never synced",
    "mismatch": "does not reconcile",
}
_INTRO = {
    "sync_health": "possync cannot keep these entities up to date:",
    "reconciliation": "A reconciliation found stored data that disagrees with the POS:",
    "shops": "possync could not check these shops, so their own alerts cannot run:",
}


def opened(
    settings: Settings, incident: Incident, entities: Sequence[IncidentEntity], now: datetime
) -> AlertMessage:
    """The first message of an incident: every affected entity."""
    active = [e for e in entities if e.active]
    title = f"possync alert: {_summary(incident, active)}"
    text = [_INTRO[incident.kind], ""]
    text += [line for e in active for line in _entity_text(settings, e, now, mark_new=False)]
    body = [f"<p>{_INTRO[incident.kind]}</p>", _entity_list(settings, active, now, mark_new=False)]
    footer = f"Incident #{incident.id} opened {local_time(settings, incident.opened_at)}. "
    footer += _policy(settings)
    return finish_message(settings, "opened", "failure", title, text, body, footer)


def reminder(
    settings: Settings, incident: Incident, entities: Sequence[IncidentEntity], now: datetime
) -> AlertMessage:
    """A reminder: what is still affected, what joined, what recovered meanwhile."""
    active = [e for e in entities if e.active]
    healed = [e for e in entities if not e.active]
    duration = format_duration(now - incident.opened_at)
    title = f"possync reminder: {_summary(incident, active)}"
    intro = f"Still unresolved after {duration}. {_INTRO[incident.kind]}"
    text = [intro, ""]
    text += [line for e in active for line in _entity_text(settings, e, now, mark_new=True)]
    body = [f"<p>{html.escape(intro)}</p>", _entity_list(settings, active, now, mark_new=True)]
    if healed:
        names = ", ".join(_name(e) for e in healed)
        text += [f"Healthy again: {names}.", ""]
        body.append(f"<p>Healthy again: {html.escape(names)}.</p>")
    footer = f"Incident #{incident.id} opened {local_time(settings, incident.opened_at)}. "
    footer += _policy(settings)
    return finish_message(settings, "reminder", "warning", title, text, body, footer)


def recovered(
    settings: Settings, incident: Incident, entities: Sequence[IncidentEntity], now: datetime
) -> AlertMessage:
    """The last message of an incident: everything it affected is healthy again."""
    duration = format_duration(now - incident.opened_at)
    if incident.kind == "reconciliation":
        one, many = "reconciles again", "reconcile again"
    else:
        one, many = "is healthy again", "are healthy again"
    if len(entities) == 1:
        title = f"possync recovered: {_name(entities[0])} {one}"
    else:
        title = f"possync recovered: all {len(entities)} entities {many}"
    intro = f"All clear after {duration}: every entity of incident #{incident.id} {one}."
    text = [intro, ""]
    items = []
    for e in entities:
        last = _last_success(settings, e.last_sync_time, now)
        text += [f"- {_name(e)}: last success {last}"]
        items.append(
            html_item([f"<b>{html.escape(_name(e))}</b>: last success {html.escape(last)}"])
        )
    text.append("")
    body = [f"<p>{html.escape(intro)}</p>", html_list(items)]
    footer = (
        f"Incident #{incident.id} opened {local_time(settings, incident.opened_at)}, "
        f"resolved {local_time(settings, now)}."
    )
    return finish_message(settings, "recovered", "success", title, text, body, footer)


def test_message(settings: Settings, now: datetime) -> AlertMessage:
    """A message proving that alerts reach this channel."""
    title = "possync test message"
    intro = (
        f"This is a test alert from possync, sent {local_time(settings, now)}. "
        "If you can read it, possync's alerts reach you here."
    )
    return finish_message(settings, "test", "info", title, [intro, ""], [f"<p>{intro}</p>"], "")


def local_time(settings: Settings, moment: datetime) -> str:
    """`moment` in the shop's time zone, to the minute."""
    return moment.astimezone(ZoneInfo(settings.timezone)).strftime("%Y-%m-%d %H:%M %Z")


def format_duration(delta: timedelta) -> str:
    """A duration in its two largest units: "3 d 4 h", "5 h 10 min", "12 min"."""
    minutes = int(delta.total_seconds() // 60)
    if minutes < 1:
        return "less than a minute"
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = [f"{n} {unit}" for n, unit in ((days, "d"), (hours, "h"), (mins, "min")) if n]
    return " ".join(parts[:2])


def dashboard_line(settings: Settings) -> tuple[str, str]:
    """The dashboard link as text and as HTML (the URL is the link text, so the email's
    plain-text alternative keeps it)."""
    url = settings.dashboard_url
    link = html.escape(url, quote=True)
    return f"Dashboard: {url}", f'<p>Dashboard: <a href="{link}">{link}</a></p>'


def finish_message(
    settings: Settings,
    kind: MessageKind,
    level: NotifyLevel,
    title: str,
    text_lines: list[str],
    html_parts: list[str],
    footer: str,
) -> AlertMessage:
    """Name the shop, wrap the bodies with the dashboard link and footer, then scrub secrets
    from all of it."""
    dashboard_text, dashboard_html = dashboard_line(settings)
    shop = settings.shop_name
    shop_text = [f"Shop: {shop}", ""] if shop else []
    shop_html = [f"<p>Shop: <b>{html.escape(shop)}</b></p>"] if shop else []
    title = f"[{shop}] {title}" if shop else title
    text = "\n".join([*shop_text, *text_lines, dashboard_text, *([footer] if footer else [])])
    body = "\n".join(
        [
            '<div style="font-family: Helvetica, Arial, sans-serif; font-size: 14px">',
            *shop_html,
            *html_parts,
            dashboard_html,
            f'<p style="color: #666666">{html.escape(footer)}</p>' if footer else "",
            "</div>",
        ]
    )
    secrets = secret_values(settings)
    return AlertMessage(
        kind, scrub(title, secrets), scrub(text, secrets), scrub(body, secrets), level
    )


def _summary(incident: Incident, active: Sequence[IncidentEntity]) -> str:
    if len(active) == 1:
        return f"{_name(active[0])} {_SHORT_PROBLEM[active[0].problem]}"
    names = ", ".join(_name(e) for e in active[:3]) + (", …" if len(active) > 3 else "")
    state = "do not reconcile" if incident.kind == "reconciliation" else "need attention"
    return f"{len(active)} entities {state} ({names})"


def _policy(settings: Settings) -> str:
    if settings.alert_reminder_hours > 0:
        every = format_duration(timedelta(hours=settings.alert_reminder_hours))
        return f"Reminders every {every} while it lasts; one message when it is resolved."
    return "One message when it is resolved."


def _name(entity: IncidentEntity) -> str:
    return f"{entity.source} {entity.entity}"


def _problem_text(settings: Settings, entity: IncidentEntity, now: datetime) -> str:
    red_hours = thresholds_for(settings, entity.source, entity.entity).yellow_hours
    red = format_duration(timedelta(hours=red_hours))
    if entity.problem == "stale" and entity.last_sync_time is not None:
        age = format_duration(now - entity.last_sync_time)
        return f"stale: no successful sync for {age} (red after {red})"
    if entity.problem == "never_synced":
        return f"never synced successfully (red after {red})"
    return {"failed": "sync failed", "mismatch": "reconciliation mismatch"}.get(
        entity.problem, entity.problem
    )


def _last_success(settings: Settings, moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return "never"
    return f"{local_time(settings, moment)} ({format_duration(now - moment)} ago)"


def _entity_text(
    settings: Settings, entity: IncidentEntity, now: datetime, *, mark_new: bool
) -> list[str]:
    new = " (new)" if mark_new and not entity.announced else ""
    lines = [f"- {_name(entity)}: {_problem_text(settings, entity, now)}{new}"]
    if entity.detail:
        label = "Details" if entity.problem == "mismatch" else "Error"
        lines.append(f"  {label}: {entity.detail}")
    lines.append(f"  Last success: {_last_success(settings, entity.last_sync_time, now)}")
    lines.append("")
    return lines


def _entity_list(
    settings: Settings, entities: Sequence[IncidentEntity], now: datetime, *, mark_new: bool
) -> str:
    items = []
    for e in entities:
        lines = [f"<b>{html.escape(_name(e))}</b>: {html.escape(_problem_text(settings, e, now))}"]
        if mark_new and not e.announced:
            lines[0] += " <i>(new)</i>"
        if e.detail:
            label = "Details" if e.problem == "mismatch" else "Error"
            lines.append(f"{label}: {html.escape(e.detail)}")
        last = _last_success(settings, e.last_sync_time, now)
        lines.append(f"Last success: {html.escape(last)}")
        items.append(html_item(lines))
    return html_list(items)


def html_item(lines: Sequence[str]) -> str:
    """One list item of already-escaped lines."""
    return f'<li style="margin-bottom: 8px">{"<br>".join(lines)}</li>'


def html_list(items: Sequence[str]) -> str:
    # A list rather than a table: apprise derives the email's plain-text part from the HTML,
    # and a list converts to readable lines where a table does not.
    return f"<ul>{''.join(items)}</ul>"
