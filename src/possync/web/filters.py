"""Jinja filters: times in the shop's zone, ages, counts and durations written for people."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask

from possync.web.shop_context import page_shop
from possync.web.state import web_state
from possync.web.status_data import entity_label, source_label


def format_age(seconds: float) -> str:
    """12 → "12 s ago", 7200 → "2 h ago"."""
    if seconds < 0:
        seconds = 0
    if seconds < 60:
        return f"{seconds:.0f} s ago"
    if seconds < 3600:
        return f"{seconds // 60:.0f} min ago"
    if seconds < 172_800:
        return f"{seconds / 3600:.0f} h ago"
    return f"{seconds / 86_400:.0f} days ago"


def format_duration(seconds: float | Decimal | None) -> str:
    if seconds is None:
        return "—"
    value = float(seconds)
    if value < 1:
        return f"{value:.2f} s"
    if value < 60:
        return f"{value:.1f} s"
    minutes, rest = divmod(int(value), 60)
    if minutes < 60:
        return f"{minutes} min {rest} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


def format_hours(value: float) -> str:
    """2.0 → "2 h", 1.5 → "1.5 h", 0.5 → "30 min"."""
    if value < 1:
        return f"{round(value * 60, 1):g} min"
    return f"{value:g} h"


def format_number(value: int | float | Decimal | None) -> str:
    if value is None:
        return "—"
    return f"{value:,}"


def count_of(value: int | None, noun: str) -> str:
    """(1, "page") → "1 page", (1500, "record") → "1,500 records"."""
    number = value or 0
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


def progress_text(run: dict[str, Any] | None) -> str:
    """A running sync in a few words: the share done when the total is known, else the page.
    "45% · 450 of ~1,000 records · page 3" or "450 records · page 3"."""
    if not run:
        return ""
    records, pages = run.get("records") or 0, run.get("pages") or 0
    total = run.get("estimated_total")
    where = f"page {pages:,}"
    if total:
        share = min(99, int(records * 100 / total))  # the estimate may be short: never "100%"
        return f"{share}% · {records:,} of ~{total:,} records · {where}"
    return f"{count_of(records, 'record')} · {where}"


STATUS_TEXT = {
    "success": "Synced",
    "failed": "Failed",
    "running": "Running",
    "pending": "Pending",
    "never_synced": "Never synced",
}


def status_text(status: str, job: str | None = None) -> str:
    """What a card says about its state; a queued or running job says more than sync_state."""
    if job == "doing":
        return "Running…"
    if job == "todo":
        return "Queued"
    return STATUS_TEXT.get(status, status.replace("_", " ").capitalize())


def last_run_text(run: dict[str, Any] | None) -> str:
    """The last run in a few words, from the JSON form of a RunInfo: "1,234 records in
    2.1 s" or "failed after 2.1 s"."""
    if not run:
        return "—"
    took = format_duration(run.get("duration_seconds"))
    if run["status"] in ("failed", "abandoned"):  # abandoned: its process was killed
        return f"{run['status']} after {took}"
    return f"{count_of(run.get('records'), 'record')} in {took}"


def _as_datetime(value: datetime | str | None) -> datetime | None:
    if isinstance(value, str):
        return datetime.fromisoformat(value) if value else None
    return value


def shop_timezone() -> str:
    """The page's shop's time zone (the deployment's on pages about no one shop)."""
    shown = page_shop()
    return shown.settings.timezone if shown is not None else web_state().settings.timezone


def init_app(app: Flask) -> None:
    def local_time(value: datetime | str | None) -> str:
        value = _as_datetime(value)
        if value is None:
            return "never"
        return value.astimezone(ZoneInfo(shop_timezone())).strftime("%Y-%m-%d %H:%M:%S")

    def age(value: datetime | str | None) -> str:
        value = _as_datetime(value)
        if value is None:
            return "never"
        return format_age((datetime.now(UTC) - value).total_seconds())

    app.jinja_env.filters.update(
        local_time=local_time,
        age=age,
        duration=format_duration,
        number=format_number,
        hours=format_hours,
        count_of=count_of,
        entity_label=entity_label,
        source_label=source_label,
    )
    app.context_processor(lambda: {"shop_timezone": shop_timezone()})
    app.jinja_env.globals.update(
        status_text=status_text,
        last_run_text=last_run_text,
        progress_text=progress_text,
    )
