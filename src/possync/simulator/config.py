"""How a simulator is set up: seed, size, token, faults, rate limiting, which APIs."""

from __future__ import annotations

from dataclasses import dataclass, field

from possync.config.settings import DEFAULT_SIMULATOR_TOKEN
from possync.simulator.faults import FaultConfig

SCALES = ("small", "medium", "large")


@dataclass(frozen=True)
class SimulatorConfig:
    """Everything that determines a simulator's data and behaviour."""

    seed: int = 1
    scale: str = "small"
    token: str = DEFAULT_SIMULATOR_TOKEN
    faults: FaultConfig = field(default_factory=FaultConfig)
    rate_limit: bool = False
    rate_limit_window_seconds: float = 300.0
    lightspeed: bool = True
    square: bool = True

    def __post_init__(self) -> None:
        if self.scale not in SCALES:
            raise ValueError(f"unknown scale {self.scale!r}; use one of {', '.join(SCALES)}")
        if not self.token:
            raise ValueError("the simulator needs a non-empty token")
        if self.rate_limit_window_seconds <= 0:
            raise ValueError("rate_limit_window_seconds must be positive")
