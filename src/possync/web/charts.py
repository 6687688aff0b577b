"""Inline SVG charts drawn on the server: no script, no CDN, readable at phone width.

`runs_chart` places each run on a real time axis (ticks in the shop's time zone at round
intervals): its duration as a bar (coloured by outcome, left axis, in s/min/h) and its records
as a dot (right axis), joined by a line only to runs of the same entity, one colour per entity.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from markupsafe import Markup, escape

from possync.web.list_data import ChartPoint
from possync.web.status_data import entity_label, source_label

WIDTH, HEIGHT = 560, 250
LEFT, RIGHT, TOP, BOTTOM = 58, 58, 22, 40
SERIES_COLOURS = ("#7a4fc4", "#1b7f3b", "#c25e00", "#0b7285", "#b3261e", "#5c6bc0", "#8d6e63")
MAX_LEGEND = 6
# Round tick intervals for the time axis, in seconds.
TIME_STEPS = (
    60,
    300,
    600,
    900,
    1800,
    3600,
    3 * 3600,
    6 * 3600,
    12 * 3600,
    86_400,
    2 * 86_400,
    7 * 86_400,
    30 * 86_400,
)


def nice_step(maximum: float, ticks: int = 4) -> float:
    """A round step (1, 2 or 5 × 10^k) that covers `maximum` in about `ticks` steps."""
    if maximum <= 0:
        return 1.0
    raw = maximum / ticks
    magnitude = 10.0 ** math.floor(math.log10(raw))
    return float(next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw))


def format_count(value: float) -> str:
    """1500 → "1,500", 25000 → "25k", 1200000 → "1.2M"."""
    if value >= 1_000_000:
        return f"{value / 1_000_000:.1f}M".replace(".0M", "M")
    if value >= 10_000:
        return f"{value / 1000:.0f}k"
    return f"{value:,.0f}" if value == int(value) else f"{value:,.1f}"


def format_seconds(value: float) -> str:
    """0 → "0 s", 90 → "1.5 min", 7200 → "2 h"."""
    if value < 60:
        return f"{value:g} s"
    if value < 3600:
        return f"{value / 60:g} min"
    return f"{value / 3600:g} h"


def duration_step(maximum: float) -> float:
    """Round seconds, minutes or hours, so the left axis reads 0 s / 30 s / 1 min."""
    if maximum < 60:
        return nice_step(max(maximum, 1.0))
    if maximum < 3600:
        return nice_step(maximum / 60) * 60
    return nice_step(maximum / 3600) * 3600


def time_ticks(first: datetime, last: datetime, zone: ZoneInfo) -> list[datetime]:
    """Tick times at a round interval in the shop's zone, 2 to 6 of them within [first, last]."""
    span = (last - first).total_seconds()
    step = next((s for s in TIME_STEPS if span / s <= 5), TIME_STEPS[-1])
    local = first.astimezone(zone)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    since = (local - midnight).total_seconds()
    start = midnight + timedelta(seconds=math.ceil(since / step) * step)
    ticks = []
    moment = start
    while moment <= last:
        ticks.append(moment)
        moment += timedelta(seconds=step)
    return ticks


def tick_label(moment: datetime, span_seconds: float, zone: ZoneInfo) -> str:
    local = moment.astimezone(zone)
    if span_seconds < 86_400:
        return local.strftime("%H:%M")
    if span_seconds < 7 * 86_400:
        return local.strftime("%a %H:%M")
    return local.strftime("%b %d")


def series_label(series: str) -> str:
    source, _, entity = series.partition("/")
    return f"{source_label(source)} {entity_label(entity).lower()}"


def runs_chart(points: Sequence[ChartPoint], zone: ZoneInfo | None = None) -> Markup:
    """An SVG of durations (bars) and records (dots, a line per entity) over time."""
    if not points:
        return Markup('<p class="muted">No finished runs match this filter yet.</p>')
    zone = zone or ZoneInfo("UTC")
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    first, last = points[0].at, points[-1].at
    if (last - first).total_seconds() < 600:  # one run, or a burst: show ten minutes around it
        middle = first + (last - first) / 2
        first, last = middle - timedelta(minutes=5), middle + timedelta(minutes=5)
    span = (last - first).total_seconds()
    # Both axes share four grid steps, so each top is four round steps.
    duration_top = 4 * duration_step(max(p.duration_seconds for p in points))
    records_top = 4 * nice_step(max(p.records for p in points) or 1)
    bar_w = max(2.0, min(12.0, plot_w / max(len(points), 1) * 0.5))
    series = list(dict.fromkeys(p.series for p in points))
    colour = {name: SERIES_COLOURS[i % len(SERIES_COLOURS)] for i, name in enumerate(series)}

    def x_of(moment: datetime) -> float:
        return LEFT + (moment - first).total_seconds() / span * plot_w

    def y_records(value: float) -> float:
        return TOP + plot_h * (1 - value / records_top)

    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        'aria-label="Run durations and records over time" xmlns="http://www.w3.org/2000/svg">',
        '<text class="tick" x="4" y="12">Duration</text>',
        f'<text class="tick records" x="{WIDTH - 4}" y="12" text-anchor="end">Records</text>',
    ]
    for fraction in (0.0, 0.25, 0.5, 0.75, 1.0):
        y = TOP + plot_h * (1 - fraction)
        parts.append(
            f'<line class="grid" x1="{LEFT}" y1="{y:.1f}" x2="{LEFT + plot_w}" y2="{y:.1f}"/>'
            f'<text class="tick" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{format_seconds(duration_top * fraction)}</text>"
            f'<text class="tick records" x="{LEFT + plot_w + 6}" y="{y + 4:.1f}">'
            f"{format_count(records_top * fraction)}</text>"
        )
    parts.append(
        f'<line class="axis" x1="{LEFT}" y1="{TOP + plot_h}" x2="{LEFT + plot_w}" '
        f'y2="{TOP + plot_h}"/>'
    )
    for moment in time_ticks(first, last, zone):
        x = x_of(moment)
        parts.append(
            f'<line class="axis" x1="{x:.1f}" y1="{TOP + plot_h}" x2="{x:.1f}" '
            f'y2="{TOP + plot_h + 4}"/>'
            f'<text class="tick time" x="{x:.1f}" y="{TOP + plot_h + 17}" text-anchor="middle">'
            f"{tick_label(moment, span, zone)}</text>"
        )
    days = sorted({p.at.astimezone(zone).date() for p in points})
    day_text = days[0].isoformat() if len(days) == 1 else f"{days[0]} to {days[-1]}"
    parts.append(
        f'<text class="tick" x="{LEFT + plot_w / 2:.1f}" y="{HEIGHT - 4}" text-anchor="middle">'
        f"{day_text} ({escape(zone.key)})</text>"
    )
    for point in points:
        height = plot_h * point.duration_seconds / duration_top
        title = escape(
            f"{point.at.astimezone(zone):%Y-%m-%d %H:%M:%S} {series_label(point.series)}: "
            f"{point.status}, {format_seconds(round(point.duration_seconds, 1))}, "
            f"{point.records:,} records"
        )
        parts.append(
            f'<rect class="bar {escape(point.status)}" x="{x_of(point.at) - bar_w / 2:.1f}" '
            f'y="{TOP + plot_h - height:.1f}" width="{bar_w:.1f}" height="{max(height, 1):.1f}">'
            f"<title>{title}</title></rect>"
        )
    for name in series:
        own = [p for p in points if p.series == name]
        if len(own) > 1:
            line = " ".join(f"{x_of(p.at):.1f},{y_records(p.records):.1f}" for p in own)
            parts.append(
                f'<polyline class="records-line" data-series="{escape(name)}" '
                f'stroke="{colour[name]}" points="{line}"/>'
            )
        parts.extend(
            f'<circle class="records-dot" cx="{x_of(p.at):.1f}" cy="{y_records(p.records):.1f}" '
            f'r="3" fill="{colour[name]}"/>'
            for p in own
        )
    parts.append("</svg>")
    return Markup("".join(parts)) + _legend(series, colour)


def _legend(series: list[str], colour: dict[str, str]) -> Markup:
    if len(series) > MAX_LEGEND:
        return Markup(
            f'<p class="muted chart-note">{len(series)} entities: records are joined per entity; '
            "choose one entity above to follow its trend.</p>"
        )
    items = "".join(
        f'<li><span class="key" style="background:{colour[name]}"></span>'
        f"{escape(series_label(name))}</li>"
        for name in series
    )
    return Markup(f'<ul class="chart-legend">{items}</ul>')
