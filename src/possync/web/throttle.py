"""Login throttling that slows guessing without locking the owner out.

- Per address: one failed login is free (a typo); after the second in a row the address waits
  1 s, then 2 s, 4 s … up to POSSYNC_LOGIN_MAX_DELAY_SECONDS before its next try is looked at;
  a correct login clears it.
  Behind a reverse proxy every client shares one address, so the owner waits at most that long.
- Across addresses: at most POSSYNC_LOGIN_ATTEMPTS_PER_MINUTE failures a minute from all
  addresses together (a token bucket), so twenty addresses guess no faster than one.

In memory, for one dashboard process; a refused try is answered 429 with Retry-After and is not
counted as a failure.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

# A typo costs nothing: the wait starts with the second failure in a row.
FREE_FAILURES = 1
# Addresses whose last failure is this old are forgotten, so the table cannot grow unbounded.
FORGET_AFTER_SECONDS = 3600.0
SWEEP_EVERY_ENTRIES = 10_000


@dataclass
class _Failures:
    count: int
    last_at: float


class LoginThrottle:
    """Failed logins per address and in total; thread-safe."""

    def __init__(
        self,
        max_delay_seconds: float,
        attempts_per_minute: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_delay_seconds = max_delay_seconds
        self.attempts_per_minute = attempts_per_minute
        self._clock = clock
        self._lock = threading.Lock()
        self._by_address: dict[str, _Failures] = {}
        # Global token bucket: full at start, one token back every 60/attempts_per_minute s.
        self._tokens = float(attempts_per_minute)
        self._tokens_at = clock()

    def delay_after(self, failures: int) -> float:
        """How long an address waits after `failures` failed logins in a row."""
        if failures <= FREE_FAILURES:
            return 0.0
        return float(min(2 ** (failures - FREE_FAILURES - 1), self.max_delay_seconds))

    def retry_after(self, address: str) -> int:
        """Whole seconds until `address` may try again; 0 when it may try now."""
        now = self._clock()
        with self._lock:
            wait = 0.0
            failures = self._by_address.get(address)
            if failures is not None:
                wait = failures.last_at + self.delay_after(failures.count) - now
            self._refill(now)
            if self._tokens < 1:
                wait = max(wait, (1 - self._tokens) * self._seconds_per_token)
        return math.ceil(wait) if wait > 0 else 0

    def record_failure(self, address: str) -> None:
        now = self._clock()
        with self._lock:
            failures = self._by_address.get(address)
            if failures is None:
                if len(self._by_address) >= SWEEP_EVERY_ENTRIES:
                    self._forget_old(now)
                self._by_address[address] = _Failures(1, now)
            else:
                failures.count += 1
                failures.last_at = now
            self._refill(now)
            self._tokens = max(self._tokens - 1, 0.0)

    def record_success(self, address: str) -> None:
        with self._lock:
            self._by_address.pop(address, None)

    @property
    def _seconds_per_token(self) -> float:
        return 60.0 / self.attempts_per_minute

    def _refill(self, now: float) -> None:
        gained = (now - self._tokens_at) / self._seconds_per_token
        self._tokens = min(self._tokens + gained, float(self.attempts_per_minute))
        self._tokens_at = now

    def _forget_old(self, now: float) -> None:
        stale = [a for a, f in self._by_address.items() if now - f.last_at > FORGET_AFTER_SECONDS]
        for address in stale:
            del self._by_address[address]
