"""Lightspeed X-Series rate limiting: 300 × registers + 50 requests per fixed 5-minute window.

The window runs on wall time (a client computes its wait from `Retry-After`, an HTTP date,
against its own clock), unlike the store's simulated clock.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from email.utils import formatdate


def rate_limit_for(registers: int) -> int:
    """Lightspeed's documented limit for a retailer with this many registers."""
    return 300 * registers + 50


def http_date(epoch_seconds: float) -> str:
    """RFC 1123 date, e.g. `Wed, 15 Jul 2020 15:04:05 GMT`, rounded up to the second."""
    return formatdate(math.ceil(epoch_seconds), usegmt=True)


class RateLimiter:
    """Counts requests per fixed window; when `enforce` is off it only reports headers."""

    def __init__(
        self,
        limit: Callable[[], int],
        *,
        enforce: bool,
        window_seconds: float = 300.0,
        monotonic: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self._limit = limit
        self.enforce = enforce
        self.window_seconds = window_seconds
        self._monotonic = monotonic
        self._wall = wall
        self._lock = threading.Lock()
        self._window_start = monotonic()
        self._used = 0

    def _roll(self) -> None:
        now = self._monotonic()
        if now - self._window_start >= self.window_seconds:
            elapsed_windows = (now - self._window_start) // self.window_seconds
            self._window_start += elapsed_windows * self.window_seconds
            self._used = 0

    def admit(self) -> bool:
        """Count one request; False when it is over the limit (answer 429)."""
        with self._lock:
            self._roll()
            if not self.enforce:
                return True
            if self._used >= self._limit():
                return False
            self._used += 1
            return True

    def headers(self) -> dict[str, str]:
        """`X-RateLimit-Limit` and `X-RateLimit-Remaining` for the current window."""
        with self._lock:
            self._roll()
            limit = self._limit()
            remaining = max(limit - self._used, 0) if self.enforce else limit
            return {"X-RateLimit-Limit": str(limit), "X-RateLimit-Remaining": str(remaining)}

    def retry_after(self) -> str:
        """When the current window ends, as an HTTP date (wall clock)."""
        with self._lock:
            left = self._window_start + self.window_seconds - self._monotonic()
            return http_date(self._wall() + max(left, 0.0))
