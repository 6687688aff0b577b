"""How a simulator is set up: seed, size, token, faults, rate limiting, which APIs, how many
stores, and what its OAuth servers accept."""

from __future__ import annotations

from dataclasses import dataclass, field

from possync.config.settings import DEFAULT_SIMULATOR_TOKEN
from possync.simulator.faults import FaultConfig

SCALES = ("small", "medium", "large")
DEFAULT_OAUTH_CLIENT_SECRET = "possync-demo-secret"


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
    stores: int = 1
    oauth_client_secret: str = DEFAULT_OAUTH_CLIENT_SECRET
    lightspeed_token_seconds: int = 604_800  # Lightspeed's documented example: 7 days

    def __post_init__(self) -> None:
        if self.scale not in SCALES:
            raise ValueError(f"unknown scale {self.scale!r}; use one of {', '.join(SCALES)}")
        if not self.token:
            raise ValueError("the simulator needs a non-empty token")
        if not 1 <= self.stores <= 10_000:
            raise ValueError("stores must be from 1 to 10000")
        if not self.oauth_client_secret:
            raise ValueError("the simulator needs a non-empty OAuth client secret")
        if self.lightspeed_token_seconds <= 0:
            raise ValueError("lightspeed_token_seconds must be positive")
        if self.rate_limit_window_seconds <= 0:
            raise ValueError("rate_limit_window_seconds must be positive")
