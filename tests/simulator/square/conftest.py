"""Fixtures for the Square simulator tests: served simulators and authenticated clients."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from possync.simulator import RunningSimulator, SimulatorConfig, running_simulator
from tests.simulator.square.square_support import square_client


@pytest.fixture(scope="module")
def square_sim() -> Iterator[RunningSimulator]:
    """A Square-only small simulator (seed 1), shared by a module's read-only tests."""
    with running_simulator(SimulatorConfig(seed=1, scale="small", lightspeed=False)) as running:
        yield running


@pytest.fixture(scope="module")
def sq(square_sim: RunningSimulator) -> Iterator[httpx.Client]:
    """A client for the shared Square simulator."""
    with square_client(square_sim) as client:
        yield client


@pytest.fixture
def fresh_square() -> Iterator[RunningSimulator]:
    """A Square-only simulator of its own, for tests that move time or set faults."""
    with running_simulator(SimulatorConfig(seed=5, scale="small", lightspeed=False)) as running:
        yield running


@pytest.fixture
def fresh_sq(fresh_square: RunningSimulator) -> Iterator[httpx.Client]:
    """A client for `fresh_square`."""
    with square_client(fresh_square) as client:
        yield client
