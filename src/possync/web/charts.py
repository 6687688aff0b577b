"""Inline SVG charts drawn on the server: no script, no CDN, readable at phone width.

`runs_chart` draws run durations as bars (coloured by outcome, left axis) and records per run
as a line (right axis), placed by time.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

from possync.web.list_data import ChartPoint

WIDTH, HEIGHT = 560, 230
LEFT, RIGHT, TOP, BOTTOM = 50, 54, 14, 34


def _fmt(value: float) -> str:
    if value >= 1_000_000:
        return f"{value / 1_000_000:.1f}M"
    if value >= 10_000:
        return f"{value / 1000:.0f}k"
    if value >= 100:
        return f"{value:.0f}"
    return f"{value:.1f}".rstrip("0").rstrip(".") if value else "0"


def runs_chart(points: Sequence[ChartPoint]) -> Markup:
    """An SVG of durations (bars) and records (line) over time; a note when empty."""
    if not points:
        return Markup('<p class="muted">No finished runs match this filter yet.</p>')
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    first, last = points[0].at.timestamp(), points[-1].at.timestamp()
    span = last - first
    max_duration = max(p.duration_seconds for p in points) or 1.0
    max_records = max(p.records for p in points) or 1
    bar_w = max(2.0, min(14.0, plot_w / max(len(points), 1) * 0.6))

    def x_of(point: ChartPoint) -> float:
        share = (point.at.timestamp() - first) / span if span else 0.5
        return LEFT + bar_w / 2 + share * (plot_w - bar_w)

    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        'aria-label="Run durations and records over time" xmlns="http://www.w3.org/2000/svg">',
        f'<line class="axis" x1="{LEFT}" y1="{TOP + plot_h}" x2="{LEFT + plot_w}" '
        f'y2="{TOP + plot_h}"/>',
    ]
    for fraction in (0.0, 0.5, 1.0):
        y = TOP + plot_h * (1 - fraction)
        parts.append(
            f'<line class="grid" x1="{LEFT}" y1="{y:.1f}" x2="{LEFT + plot_w}" y2="{y:.1f}"/>'
            f'<text class="tick" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{_fmt(max_duration * fraction)}s</text>"
            f'<text class="tick records" x="{LEFT + plot_w + 6}" y="{y + 4:.1f}">'
            f"{_fmt(max_records * fraction)}</text>"
        )
    for point in points:
        height = plot_h * point.duration_seconds / max_duration
        x = x_of(point) - bar_w / 2
        title = escape(
            f"{point.at:%Y-%m-%d %H:%M} — {point.status}, {point.duration_seconds:.1f} s, "
            f"{point.records:,} records"
        )
        parts.append(
            f'<rect class="bar {escape(point.status)}" x="{x:.1f}" '
            f'y="{TOP + plot_h - height:.1f}" width="{bar_w:.1f}" height="{max(height, 1):.1f}">'
            f"<title>{title}</title></rect>"
        )
    line = " ".join(
        f"{x_of(p):.1f},{TOP + plot_h * (1 - p.records / max_records):.1f}" for p in points
    )
    parts.append(f'<polyline class="records-line" points="{line}"/>')
    parts.append(
        f'<text class="tick" x="{LEFT}" y="{HEIGHT - 10}">{points[0].at:%Y-%m-%d %H:%M}</text>'
        f'<text class="tick" x="{LEFT + plot_w}" y="{HEIGHT - 10}" text-anchor="end">'
        f"{points[-1].at:%Y-%m-%d %H:%M}</text>"
    )
    parts.append("</svg>")
    return Markup("".join(parts))
