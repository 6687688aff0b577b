"""Fault injection: what can go wrong between a client and a POS API, decided by a seeded RNG.

Kinds understood by `FaultInjector.should`:

- ``"error"``: answer 5xx (probability `error_rate`)
- ``"reset"``: reset the TCP connection without a response (`reset_rate`)
- ``"truncate"``: send fewer body bytes than Content-Length declares (`truncate_rate`)
- ``"rate_limit"``: answer 429 (true for the next `rate_limit_burst` requests)
- ``"expired_cursor"``: reject a pagination cursor as expired (`expired_cursor_rate`, Square)
- ``"short_page"``: return fewer records than asked for although more exist (`short_page_rate`)
- ``"malformed"``: answer a successful request with HTTP 200 and a body that is no page of the
  endpoint (`malformed_rate`): one of `MALFORMED_BODIES`, the one numbered `malformed_shape`
  (1-based), or any of them (seeded) when it is 0
"""

from __future__ import annotations

import random
import threading
from dataclasses import asdict, dataclass, fields
from typing import Any

RATE_FIELDS = {
    "error": "error_rate",
    "reset": "reset_rate",
    "truncate": "truncate_rate",
    "expired_cursor": "expired_cursor_rate",
    "short_page": "short_page_rate",
    "malformed": "malformed_rate",
}
# What broken servers, proxies and maintenance switches answer with HTTP 200. Square omits an
# empty array, so `{}` is a well-formed empty Square page (and only the delete guard stops a
# snapshot it would end); every other body is no page of any endpoint.
MALFORMED_BODIES: tuple[Any, ...] = (
    {},
    {"data": None},
    {"error": "Service temporarily unavailable"},
    [],
    None,
    {"errors": [{"category": "API_ERROR", "code": "SERVICE_UNAVAILABLE", "detail": "try later"}]},
    {"data": {"categories": None}, "page_info": {"has_next": False}},
    {"data": [1, 2, 3]},
)
FAULT_KINDS = (*RATE_FIELDS, "rate_limit")


@dataclass(frozen=True)
class FaultConfig:
    """What to inject. Rates are probabilities per request (0 to 1)."""

    error_rate: float = 0.0
    reset_rate: float = 0.0
    truncate_rate: float = 0.0
    latency_ms: float = 0.0
    rate_limit_burst: int = 0
    expired_cursor_rate: float = 0.0
    short_page_rate: float = 0.0
    malformed_rate: float = 0.0
    malformed_shape: int = 0  # 1..len(MALFORMED_BODIES); 0: any, chosen by the seeded RNG
    seed: int = 0

    def __post_init__(self) -> None:
        for name in RATE_FIELDS.values():
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"fault {name} must be between 0 and 1, not {value}")
        if self.latency_ms < 0 or self.rate_limit_burst < 0:
            raise ValueError("fault latency_ms and rate_limit_burst must not be negative")
        if not 0 <= self.malformed_shape <= len(MALFORMED_BODIES):
            raise ValueError(
                f"fault malformed_shape must be 0 (any) to {len(MALFORMED_BODIES)}, "
                f"not {self.malformed_shape}"
            )

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> FaultConfig:
        """Build from JSON-like values; unknown names and bad numbers raise ValueError."""
        known = {f.name: f.type for f in fields(cls)}
        converted: dict[str, Any] = {}
        for name, raw in values.items():
            if name not in known:
                raise ValueError(f"unknown fault {name!r}; known: {', '.join(known)}")
            integer = name in ("rate_limit_burst", "malformed_shape", "seed")
            try:
                converted[name] = int(raw) if integer else float(raw)
            except (TypeError, ValueError):
                raise ValueError(f"fault {name} needs a number, not {raw!r}") from None
        return cls(**converted)

    @classmethod
    def parse(cls, spec: str) -> FaultConfig:
        """Parse ``"error_rate=0.1,reset_rate=0.05,latency_ms=20"`` (empty: no faults)."""
        values: dict[str, str] = {}
        for part in spec.replace(" ", "").split(","):
            if not part:
                continue
            name, sep, value = part.partition("=")
            if not sep:
                raise ValueError(f"fault {part!r} needs a value, like error_rate=0.1")
            values[name] = value
        return cls.from_dict(values)

    def to_dict(self) -> dict[str, Any]:
        """The config as JSON-ready values."""
        return asdict(self)


class FaultInjector:
    """Decides, thread-safely and reproducibly, which requests fail, and counts what it did."""

    def __init__(self, config: FaultConfig | None = None) -> None:
        self._lock = threading.Lock()
        self._config = config or FaultConfig()
        self._rng = random.Random(self._config.seed)
        self._burst_left = self._config.rate_limit_burst
        self.injected: dict[str, int] = dict.fromkeys(FAULT_KINDS, 0)

    @property
    def config(self) -> FaultConfig:
        """The active configuration."""
        return self._config

    def configure(self, config: FaultConfig) -> None:
        """Replace the configuration (the counters keep counting)."""
        with self._lock:
            self._config = config
            self._rng = random.Random(config.seed)
            self._burst_left = config.rate_limit_burst

    @property
    def latency_seconds(self) -> float:
        """Delay to add before answering each request."""
        return self._config.latency_ms / 1000.0

    def should(self, kind: str) -> bool:
        """Whether to inject fault `kind` into the current request (counts it when true)."""
        with self._lock:
            if kind == "rate_limit":
                hit = self._burst_left > 0
                if hit:
                    self._burst_left -= 1
            elif kind in RATE_FIELDS:
                rate = float(getattr(self._config, RATE_FIELDS[kind]))
                hit = rate > 0.0 and self._rng.random() < rate
            else:
                raise ValueError(f"unknown fault kind {kind!r}")
            if hit:
                self.injected[kind] += 1
            return hit

    def randint(self, low: int, high: int) -> int:
        """A reproducible integer in [low, high], e.g. the size of a short page."""
        with self._lock:
            return self._rng.randint(low, high)

    def malformed_body(self) -> Any:
        """The body of a malformed answer (see `FaultConfig.malformed_shape`)."""
        with self._lock:
            shape = self._config.malformed_shape
            if shape == 0:
                shape = self._rng.randint(1, len(MALFORMED_BODIES))
        return MALFORMED_BODIES[shape - 1]

    def snapshot(self) -> dict[str, Any]:
        """Config and counters, JSON-ready."""
        with self._lock:
            return {"config": self._config.to_dict(), "injected": dict(self.injected)}
