"""Simulated Lightspeed Retail X-Series API 2.0 over a generated retailer.

`LightspeedStore` implements the simulator's `ApiSimulation` protocol (see
`possync.simulator.app`).
"""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Request, Response

from possync.simulator.clock import SimClock
from possync.simulator.faults import FaultInjector
from possync.simulator.lightspeed.api import LightspeedApi
from possync.simulator.lightspeed.build import build_state, stream
from possync.simulator.lightspeed.ratelimit import RateLimiter, rate_limit_for
from possync.simulator.lightspeed.state import CORRUPTIBLE
from possync.simulator.lightspeed.timetravel import TimeTraveller
from possync.simulator.lightspeed.truth import build_truth

__all__ = ["CORRUPTIBLE", "LightspeedStore"]


class LightspeedStore:
    """One retailer's data, served as Lightspeed X-Series API 2.0. Thread-safe."""

    def __init__(
        self,
        seed: int,
        scale: str,
        clock: SimClock,
        *,
        rate_limit: bool,
        rate_limit_window_seconds: float,
    ) -> None:
        self.clock = clock
        self._last_advance = int(clock.now().timestamp())
        self.state = build_state(seed, scale, self._last_advance)
        self.limiter = RateLimiter(
            lambda: rate_limit_for(self.state.register_count),
            enforce=rate_limit,
            window_seconds=rate_limit_window_seconds,
        )
        self.api = LightspeedApi(self.state, self.limiter)
        self._traveller = TimeTraveller(self.state, stream(seed, scale, "time-travel"))

    def handle(self, request: Request, path: str, faults: FaultInjector) -> Response:
        """Answer a request under /api/2.0 (`path` like "/sales")."""
        return self.api.handle(request, path, faults)

    def error_response(self, status: int, kind: str) -> Response:
        """Lightspeed's error body, with the rate-limit headers every response carries."""
        return self.api.error_response(status, kind)

    def advance(self, minutes: int) -> dict[str, int]:
        """Apply what happened in the store since the last advance (the clock has moved)."""
        now = int(self.clock.now().timestamp())
        with self.state.lock:
            counts = self._traveller.advance(self._last_advance, now)
            self._last_advance = now
        return counts

    def truth(self) -> dict[str, Any]:
        """Ids alive and deleted per entity, daily CLOSED totals per outlet, malformed ids."""
        with self.state.lock:
            return build_truth(self.state, self.clock.now())

    def corrupt(self, entity: str, count: int) -> list[str]:
        """Make `count` records of `entity` malformed, served as their next versions."""
        with self.state.lock:
            return self.state.corrupt(entity, count)
