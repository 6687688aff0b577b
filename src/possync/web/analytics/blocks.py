"""A range of business dates as a few calendar blocks (years, months, days) to add or subtract,
so per-product sums read a few rows per product whatever the range's length.

A range [a, b] is prefix(b + 1) − prefix(a), where prefix(d) is everything before d. Each
prefix can be read forwards (the months and days before d in its year) or backwards (the whole
year, less the months and days from d on); blocks both prefixes share cancel out. Of the
sixteen ways, the cheapest is kept: a month or a year costs about as many rows as a few days
(nearly every product sells in a month), and a block with no data costs nothing. Sums are
exact integers, so subtracting is as exact as adding. Example: 3 October – 1 November is
October + 1 November − 1 October − 2 October.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import product

from possync.web.analytics.periods import Period

LEVELS = ("year", "month", "day")
# Rows a block reads, in days' worth: a month's or a year's rows are one per product, about
# three and a half days' worth on a store where most products sell every month.
BLOCK_COST = {"day": 1.0, "month": 3.5, "year": 4.0}
PROBE_COST = 0.1  # an index probe that finds no rows


@dataclass(frozen=True)
class Block:
    """`sign` × the sums of the `level` block that starts on `start`."""

    level: str
    start: date
    sign: int

    @property
    def end(self) -> date:
        """The block's last day."""
        if self.level == "day":
            return self.start
        if self.level == "month":
            return _next_month(self.start) - timedelta(days=1)
        return date(self.start.year, 12, 31)


def _next_month(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


def _months(year: int, first: int, last: int) -> list[tuple[str, date]]:
    return [("month", date(year, m, 1)) for m in range(first, last + 1)]


def _days(first: date, last: date) -> list[tuple[str, date]]:
    return [("day", first + timedelta(days=i)) for i in range((last - first).days + 1)]


def _prefix(
    day: date, base_year: int, backwards_months: bool, backwards_days: bool
) -> Counter[tuple[str, date]]:
    """Everything from 1 January of `base_year` up to (not including) `day`, as signed blocks."""
    blocks: Counter[tuple[str, date]] = Counter()
    for year in range(base_year, day.year):
        blocks[("year", date(year, 1, 1))] += 1
    month_start = day.replace(day=1)
    if backwards_months:  # the year, less the months from this one on
        blocks[("year", date(day.year, 1, 1))] += 1
        for block in _months(day.year, day.month, 12):
            blocks[block] -= 1
    else:
        for block in _months(day.year, 1, day.month - 1):
            blocks[block] += 1
    if backwards_days:  # this month, less its days from `day` on
        blocks[("month", month_start)] += 1
        for block in _days(day, _next_month(day) - timedelta(days=1)):
            blocks[block] -= 1
    else:
        for block in _days(month_start, day - timedelta(days=1)):
            blocks[block] += 1
    return blocks


def _cost(level: str, start: date, data: Period | None) -> float:
    block = Block(level, start, 1)
    if data is None:
        return BLOCK_COST[level] + PROBE_COST
    overlap = (min(block.end, data.end) - max(block.start, data.start)).days + 1
    if overlap <= 0:
        return 0.0  # left out: nothing to read
    return min(BLOCK_COST[level], float(overlap)) + PROBE_COST


def signed_blocks(period: Period, data: Period | None = None) -> list[Block]:
    """The cheapest blocks whose signed sum is exactly `period`. `data`: the dates that hold
    any rows (None: unknown); blocks wholly outside it hold nothing and are left out, so the
    sum is exact on those dates only (read them in the same snapshot as the sums)."""
    after = period.end + timedelta(days=1)
    base_year = min(period.start.year, after.year)
    best: list[Block] | None = None
    best_cost = 0.0
    for end_way, start_way in product(product((False, True), repeat=2), repeat=2):
        blocks = _prefix(after, base_year, *end_way)
        blocks.subtract(_prefix(period.start, base_year, *start_way))
        chosen = [Block(level, start, sign) for (level, start), sign in blocks.items() if sign]
        cost = sum(_cost(b.level, b.start, data) for b in chosen)
        if best is None or (cost, len(chosen)) < (best_cost, len(best)):
            best, best_cost = chosen, cost
    assert best is not None
    if data is not None:
        best = [b for b in best if b.start <= data.end and b.end >= data.start]
    return sorted(best, key=lambda b: (LEVELS.index(b.level), b.start))
