"""What every source hands the engine: pages of raw records plus the cursor they advance to."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class StreamState:
    """The stored cursor of one (source, entity), as the engine read it from sync_state."""

    last_version: int | None = None
    watermark: datetime | None = None
    run_cursor: dict[str, Any] | None = None


@dataclass(frozen=True)
class CursorAdvance:
    """What sync_state becomes once a page commits. None leaves a field as it is, except
    `run_cursor`, which is replaced (None clears it when a windowed run completes)."""

    last_version: int | None = None
    watermark: datetime | None = None
    run_cursor: dict[str, Any] | None = None


@dataclass
class Page:
    """Records of one API page (or one batch of pages) and where the cursor stands after them."""

    records: list[dict[str, Any]]
    cursor: CursorAdvance
    estimated_total: int | None = None
    # Full-sync streams: the walk has reached the end, so rows not seen in this run are gone.
    complete_snapshot: bool = False
    # Part of a complete walk of a guarded table (e.g. Square's catalog list on the deep pass):
    # the engine remembers its keys for `complete_snapshot`, as it always does for unguarded ones.
    snapshot: bool = False


@dataclass(frozen=True)
class ReadOptions:
    """How the engine asks a stream to read."""

    full: bool = False
    since: date | None = None
    until: date | None = None


@dataclass
class RequestStats:
    """Counters a client keeps for the run's metadata."""

    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    waited_seconds: float = 0.0
    by_status: dict[int, int] = field(default_factory=dict)


class Source(Protocol):
    """A POS API client: reads an entity's pages from a cursor; never touches the database."""

    name: str

    @property
    def stats(self) -> RequestStats: ...

    def close(self) -> None: ...

    def stream_names(self) -> tuple[str, ...]: ...

    def read_pages(
        self, entity: str, state: StreamState, options: ReadOptions
    ) -> Iterator[Page]: ...

    def check(self) -> str: ...


@dataclass(frozen=True)
class LocationWindow:
    location_id: str
    time_zone: str
    first_day: date
    last_day: date

    def utc_bounds(self) -> tuple[datetime, datetime]:
        """[start of first day, start of the day after the last) in UTC."""
        zone = ZoneInfo(self.time_zone)
        start = datetime.combine(self.first_day, datetime.min.time(), zone)
        end = datetime.combine(self.last_day + timedelta(days=1), datetime.min.time(), zone)
        return start.astimezone(UTC), end.astimezone(UTC)
