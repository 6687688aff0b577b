"""The history chart reads as a chart: a real time axis with distinct, round ticks in the shop's
time zone, duration ticks with units that differ, round record ticks, and a line per entity."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from possync.web.charts import runs_chart
from possync.web.list_data import ChartPoint

NOON = datetime(2026, 11, 1, 12, 0, 7, tzinfo=UTC)


def _texts(svg: str, css_class: str) -> list[str]:
    return re.findall(rf'<text class="{css_class}"[^>]*>([^<]*)</text>', svg)


def _point(minutes: float, seconds: float, records: int, series: str) -> ChartPoint:
    return ChartPoint(NOON + timedelta(minutes=minutes), seconds, records, "completed", series)


def test_one_run_gets_distinct_round_time_ticks() -> None:
    svg = str(runs_chart([_point(0, 0.02, 3, "lightspeed/outlets")]))
    times = _texts(svg, "tick time")
    assert len(times) >= 2 and len(set(times)) == len(times), times
    assert all(re.fullmatch(r"\d\d:\d\d", label) for label in times), times
    assert "2026-11-01 (UTC)" in svg


def test_duration_ticks_have_units_and_differ() -> None:
    points = [_point(n, 0.01 * (n + 1), 10, "lightspeed/sales") for n in range(3)]
    svg = str(runs_chart(points))
    left = [t for t in _texts(svg, "tick") if t.endswith(" s")]
    assert len(set(left)) == len(left) == 5, left
    assert left[0] == "0 s"
    assert "Duration" in svg and "Records" in svg


def test_record_ticks_are_round_numbers() -> None:
    svg = str(
        runs_chart([_point(0, 5, 1252, "lightspeed/sales"), _point(60, 5, 40, "lightspeed/sales")])
    )
    right = _texts(svg, "tick records")[1:]  # after the axis title
    assert right == ["0", "500", "1,000", "1,500", "2,000"], right
    assert "1252" not in "".join(right)


def test_one_line_per_entity_never_across_entities() -> None:
    points = [
        _point(0, 1, 100, "lightspeed/sales"),
        _point(1, 1, 5, "lightspeed/users"),
        _point(60, 1, 120, "lightspeed/sales"),
        _point(61, 1, 6, "lightspeed/users"),
    ]
    svg = str(runs_chart(points))
    lines = dict(
        re.findall(
            r'<polyline class="records-line" data-series="([^"]+)"[^>]*points="([^"]+)"', svg
        )
    )
    assert set(lines) == {"lightspeed/sales", "lightspeed/users"}
    assert all(len(line.split()) == 2 for line in lines.values())
    assert "Lightspeed sales" in svg and "Lightspeed users" in svg  # the legend


def test_time_ticks_are_in_the_shop_time_zone() -> None:
    points = [_point(0, 1, 10, "square/orders"), _point(180, 1, 10, "square/orders")]
    svg = str(runs_chart(points, ZoneInfo("America/New_York")))
    times = _texts(svg, "tick time")
    assert "08:00" in times and "12:00" not in times, times  # noon UTC is 07:00 in New York
    assert "(America/New_York)" in svg
