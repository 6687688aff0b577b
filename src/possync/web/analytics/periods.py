"""Date ranges for the business pages: parsing `from`/`to`, quick picks and the previous
period to compare with. Dates are business dates in the shop's time zone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

MAX_RANGE_DAYS = 3_660  # ten years: wider ranges are a typo, not a question


class BadParameter(ValueError):
    """A query parameter the user must fix; the message is one line saying how."""


@dataclass(frozen=True)
class Period:
    """An inclusive range of business dates."""

    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        """The period of the same length just before this one (this month → the month before
        when the month is complete; otherwise the same number of days)."""
        if self.start.day == 1 and _is_month_end(self.end) and self.start.month == self.end.month:
            last = self.start - timedelta(days=1)
            return Period(last.replace(day=1), last)
        return Period(self.start - timedelta(days=self.days), self.start - timedelta(days=1))

    def whole_months(self) -> tuple[list[date], list[Period]]:
        """The calendar months wholly inside the range (their first days) and the days left
        over before and after them, so sums can read a month's row instead of its days."""
        first = self.start if self.start.day == 1 else _next_month(self.start)
        months: list[date] = []
        while (end := _next_month(first) - timedelta(days=1)) <= self.end:
            months.append(first)
            first = end + timedelta(days=1)
        if not months:
            return [], [self]
        edges = [Period(self.start, months[0] - timedelta(days=1)), Period(first, self.end)]
        return months, [edge for edge in edges if edge.start <= edge.end]

    def label(self) -> str:
        if self.start == self.end:
            return self.start.isoformat()
        return f"{self.start.isoformat()} – {self.end.isoformat()}"


def _is_month_end(day: date) -> bool:
    return (day + timedelta(days=1)).day == 1


def _next_month(day: date) -> date:
    """The first day of the month after `day`'s."""
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


def today_in(zone_name: str, now: datetime | None = None) -> date:
    """Today's date in the shop's time zone."""
    moment = now or datetime.now(ZoneInfo("UTC"))
    return moment.astimezone(ZoneInfo(zone_name)).date()


def quick_picks(today: date) -> dict[str, Period]:
    """The ranges a finance lead asks for most, by label."""
    month_start = today.replace(day=1)
    last_month_end = month_start - timedelta(days=1)
    return {
        "Today": Period(today, today),
        "Yesterday": Period(today - timedelta(days=1), today - timedelta(days=1)),
        "This week": Period(today - timedelta(days=today.weekday()), today),
        "Last 30 days": Period(today - timedelta(days=29), today),
        "This month": Period(month_start, today),
        "Last month": Period(last_month_end.replace(day=1), last_month_end),
        "This year": Period(today.replace(month=1, day=1), today),
    }


def parse_date(value: str, name: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise BadParameter(f"{name}={value!r} is not a date: use YYYY-MM-DD") from None


def parse_period(start: str | None, end: str | None, today: date) -> Period:
    """`from`/`to` as given (either may be left out: the last 30 days up to `to` or today)."""
    end_date = parse_date(end, "to") if end else today
    start_date = parse_date(start, "from") if start else end_date - timedelta(days=29)
    if start_date > end_date:
        raise BadParameter(f"from={start_date} is after to={end_date}: swap them")
    if (end_date - start_date).days >= MAX_RANGE_DAYS:
        raise BadParameter(f"the range is longer than {MAX_RANGE_DAYS} days: choose a shorter one")
    return Period(start_date, end_date)
