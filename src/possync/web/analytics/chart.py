"""The Sales page's chart: net sales by day as bars, the previous period as a line, drawn as
inline SVG on the server (no script, no CDN); it scales to the screen's width."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from markupsafe import Markup, escape

WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 58, 12, 14, 34


def _short(value: Decimal) -> str:
    amount = float(value)
    if abs(amount) >= 1_000_000:
        return f"{amount / 1_000_000:.1f}M"
    if abs(amount) >= 10_000:
        return f"{amount / 1000:.0f}k"
    return f"{amount:,.0f}"


def daily_sales_chart(
    days: Sequence[tuple[date, Decimal]], previous: Sequence[tuple[date, Decimal]]
) -> Markup:
    """Bars for `days` (every date of the range, zero where nothing sold) and a line for the
    previous period, matched day by day."""
    if not days:
        return Markup('<p class="muted">No days in this range.</p>')
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    values = [v for _, v in days] + [v for _, v in previous]
    top = max([v for v in values if v > 0] or [Decimal(1)])
    slot = plot_w / len(days)
    bar_w = max(1.0, slot * 0.7)

    def y_of(value: Decimal) -> float:
        return TOP + plot_h * (1 - float(max(value, Decimal(0)) / top))

    parts = [
        f'<svg class="chart sales-chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        'aria-label="Net sales by day, with the previous period as a line" '
        'xmlns="http://www.w3.org/2000/svg">'
    ]
    for fraction in (0.0, 0.5, 1.0):
        y = TOP + plot_h * (1 - fraction)
        parts.append(
            f'<line class="grid" x1="{LEFT}" y1="{y:.1f}" x2="{LEFT + plot_w}" y2="{y:.1f}"/>'
            f'<text class="tick" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{_short(top * Decimal(str(fraction)))}</text>"
        )
    for index, (day, value) in enumerate(days):
        x = LEFT + slot * index + (slot - bar_w) / 2
        y = y_of(value)
        title = escape(f"{day.isoformat()}: {value:,.2f}")
        parts.append(
            f'<rect class="bar sales" x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" '
            f'height="{max(TOP + plot_h - y, 0.5):.1f}"><title>{title}</title></rect>'
        )
    if previous:
        points = " ".join(
            f"{LEFT + slot * i + slot / 2:.1f},{y_of(v):.1f}"
            for i, (_, v) in enumerate(previous[: len(days)])
        )
        parts.append(f'<polyline class="previous-line" points="{points}"/>')
    parts.append(
        f'<text class="tick" x="{LEFT}" y="{HEIGHT - 10}">{days[0][0].isoformat()}</text>'
        f'<text class="tick" x="{LEFT + plot_w}" y="{HEIGHT - 10}" text-anchor="end">'
        f"{days[-1][0].isoformat()}</text></svg>"
    )
    return Markup("".join(parts))
