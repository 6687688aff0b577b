"""A range's signed calendar blocks add up to exactly its days (pure: no database)."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, timedelta

from possync.web.analytics.blocks import Block, signed_blocks
from possync.web.analytics.periods import Period


def _days_of(blocks: list[Block]) -> Counter[date]:
    days: Counter[date] = Counter()
    for block in blocks:
        day = block.start
        while day <= block.end:
            days[day] += block.sign
            day += timedelta(days=1)
    return +days - (-days)  # drop the days that cancelled out


def _expected(period: Period, data: Period | None = None) -> Counter[date]:
    days = (period.start + timedelta(days=i) for i in range(period.days))
    return Counter(d for d in days if data is None or data.start <= d <= data.end)


def _within(days: Counter[date], data: Period | None) -> Counter[date]:
    return Counter({d: n for d, n in days.items() if data is None or data.start <= d <= data.end})


def test_blocks_add_up_to_exactly_the_range() -> None:
    rng = random.Random(15)
    data = Period(date(2025, 11, 1), date(2026, 11, 1))
    for _ in range(400):
        start = date(2023, 1, 1) + timedelta(days=rng.randrange(4 * 366))
        period = Period(start, start + timedelta(days=rng.choice([0, 1, 6, 29, 30, 89, 364, 800])))
        for known in (None, data):
            # Blocks outside the dates that hold data are left out: exact on those dates.
            blocks = signed_blocks(period, known)
            assert _within(_days_of(blocks), known) == _expected(period, known), (period, blocks)
            assert all(
                known is None or (b.start <= known.end and b.end >= known.start) for b in blocks
            )


def test_ranges_are_read_as_few_blocks() -> None:
    data = Period(date(2025, 11, 1), date(2026, 11, 1))
    # The last 30 days of the store: October, plus 1 November, less 1 and 2 October.
    assert signed_blocks(Period(date(2026, 10, 3), date(2026, 11, 1)), data) == [
        Block("month", date(2026, 10, 1), 1),
        Block("day", date(2026, 10, 1), -1),
        Block("day", date(2026, 10, 2), -1),
        Block("day", date(2026, 11, 1), 1),
    ]
    # A year up to the store's last day: no more than a few months' and days' rows.
    year = signed_blocks(Period(date(2025, 11, 2), date(2026, 11, 1)), data)
    assert sum(b.level != "day" for b in year) <= 3, year
    assert sum(b.level == "day" for b in year) <= 3, year
    assert signed_blocks(Period(date(2026, 2, 1), date(2026, 2, 28)), data) == [
        Block("month", date(2026, 2, 1), 1)
    ]
    assert signed_blocks(Period(date(2026, 5, 7), date(2026, 5, 7)), data) == [
        Block("day", date(2026, 5, 7), 1)
    ]
