"""The simulator fixture: both POS APIs (or one) served over HTTP on loopback for one test.

Each folder or module declares which store it needs in one line, e.g.

    simulator = simulator_fixture(seed=7, square=False)

so the fixture is written once and the seeds the tests' expectations were made with stay.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Literal

import pytest

from possync.simulator import RunningSimulator, SimulatorConfig, running_simulator

Scope = Literal["function", "module", "session"]


def simulator_fixture(
    *,
    seed: int,
    scale: str = "small",
    lightspeed: bool = True,
    square: bool = True,
    scope: Scope = "function",
) -> Callable[..., Any]:
    """A pytest fixture serving the simulated store `seed` at `scale` for each test (or each
    module, with scope="module", for read-only tests)."""
    config = SimulatorConfig(seed=seed, scale=scale, lightspeed=lightspeed, square=square)

    def serve_simulator() -> Iterator[RunningSimulator]:
        """The simulator, served on a free loopback port until the test (or module) ends."""
        with running_simulator(config) as running:
            yield running

    return pytest.fixture(scope=scope)(serve_simulator)
