"""Ranges, quick picks and the previous period; exact money conversion (no database)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from possync.money import minor_to_units
from possync.web.analytics.periods import BadParameter, Period, parse_period, quick_picks


def test_a_whole_month_compares_with_the_whole_month_before() -> None:
    assert Period(date(2026, 3, 1), date(2026, 3, 31)).previous() == Period(
        date(2026, 2, 1), date(2026, 2, 28)
    )
    # Part of a month: the same number of days just before.
    assert Period(date(2026, 3, 1), date(2026, 3, 10)).previous() == Period(
        date(2026, 2, 19), date(2026, 2, 28)
    )


def test_quick_picks() -> None:
    picks = quick_picks(date(2026, 12, 3))  # a Thursday
    assert picks["Today"] == Period(date(2026, 12, 3), date(2026, 12, 3))
    assert picks["Yesterday"] == Period(date(2026, 12, 2), date(2026, 12, 2))
    assert picks["This week"] == Period(date(2026, 11, 30), date(2026, 12, 3))
    assert picks["Last 30 days"] == Period(date(2026, 11, 4), date(2026, 12, 3))
    assert picks["Last month"] == Period(date(2026, 11, 1), date(2026, 11, 30))
    assert picks["This year"] == Period(date(2026, 1, 1), date(2026, 12, 3))


def test_parse_period_defaults_and_errors() -> None:
    today = date(2026, 12, 3)
    assert parse_period(None, None, today) == Period(date(2026, 11, 4), today)
    with pytest.raises(BadParameter, match="from='03/12/2026' is not a date: use YYYY-MM-DD"):
        parse_period("03/12/2026", None, today)
    with pytest.raises(BadParameter, match="longer than"):
        parse_period("1990-01-01", "2026-01-01", today)


def test_minor_units_convert_exactly() -> None:
    assert minor_to_units(1234, "USD") == Decimal("12.34")
    assert str(minor_to_units(-5, "USD")) == "-0.05"
    assert minor_to_units(1234, "JPY") == Decimal(1234)
    assert minor_to_units(1234, "KWD") == Decimal("1.234")
    assert minor_to_units(99_999_999_999_999, "USD") == Decimal("999999999999.99")


def test_whole_months_and_the_days_around_them() -> None:
    year = Period(date(2025, 11, 2), date(2026, 11, 1))
    months, edges = year.whole_months()
    assert months == [date(2025, 12, 1)] + [date(2026, m, 1) for m in range(1, 11)]
    assert edges == [
        Period(date(2025, 11, 2), date(2025, 11, 30)),
        Period(date(2026, 11, 1), date(2026, 11, 1)),
    ]
    # Every day of the range is in exactly one month or edge.
    covered = sum(p.days for p in edges) + sum(
        Period(m, (m.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)).days
        for m in months
    )
    assert covered == year.days
    assert Period(date(2026, 10, 1), date(2026, 10, 31)).whole_months() == ([date(2026, 10, 1)], [])
    assert Period(date(2024, 2, 1), date(2024, 2, 29)).whole_months() == ([date(2024, 2, 1)], [])
    short = Period(date(2026, 10, 3), date(2026, 11, 1))
    assert short.whole_months() == ([], [short])
    assert Period(date(2026, 10, 1), date(2026, 10, 30)).whole_months()[0] == []
