"""Fixtures for the Square simulator tests: served simulators and authenticated clients."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from possync.simulator import RunningSimulator
from tests.simulator.square.square_support import square_client
from tests.support.simulators import simulator_fixture

# A Square-only small simulator (seed 1), shared by a module's read-only tests.
square_sim = simulator_fixture(seed=1, lightspeed=False, scope="module")


@pytest.fixture(scope="module")
def sq(square_sim: RunningSimulator) -> Iterator[httpx.Client]:
    """A client for the shared Square simulator."""
    with square_client(square_sim) as client:
        yield client


# A Square-only simulator of its own, for tests that move time or set faults.
fresh_square = simulator_fixture(seed=5, lightspeed=False)


@pytest.fixture
def fresh_sq(fresh_square: RunningSimulator) -> Iterator[httpx.Client]:
    """A client for `fresh_square`."""
    with square_client(fresh_square) as client:
        yield client
