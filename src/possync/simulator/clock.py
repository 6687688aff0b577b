"""Deterministic simulated time, shared by both simulated POS APIs.

The clock never reads wall time, so the same seed and the same calls give the same bytes.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

SIMULATION_START = datetime(2026, 11, 1, 12, 0, 0, tzinfo=UTC)


class SimClock:
    """A clock that only moves when told to (`advance`)."""

    def __init__(self, start: datetime = SIMULATION_START) -> None:
        if start.tzinfo is None:
            raise ValueError("the simulated clock needs an aware start time")
        self._now = start.astimezone(UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        """The current simulated instant (UTC)."""
        with self._lock:
            return self._now

    def advance(self, minutes: int) -> datetime:
        """Move forward by `minutes` (>= 0) and return the new instant."""
        if minutes < 0:
            raise ValueError("the simulated clock only moves forward")
        with self._lock:
            self._now += timedelta(minutes=minutes)
            return self._now
