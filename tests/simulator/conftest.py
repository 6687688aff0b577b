"""Fixtures for the simulator tests: a served simulator and an authenticated client."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from possync.simulator import RunningSimulator
from tests.support.simulators import simulator_fixture

# Both APIs over the small seed-1 store, shared by a module's read-only tests.
simulator = simulator_fixture(seed=1, scope="module")


# A Lightspeed-only simulator of its own, for tests that change data or faults.
fresh_lightspeed = simulator_fixture(seed=3, square=False)


@pytest.fixture(scope="module")
def ls_client(simulator: RunningSimulator) -> Iterator[httpx.Client]:
    """A client for the shared simulator's Lightspeed API."""
    with lightspeed_client(simulator) as client:
        yield client


def lightspeed_client(simulator: RunningSimulator) -> httpx.Client:
    """An httpx client with the simulator's Lightspeed base URL and bearer token."""
    return httpx.Client(
        base_url=simulator.lightspeed_url,
        headers={"Authorization": f"Bearer {simulator.token}"},
        timeout=10,
    )


@pytest.fixture
def fresh_lightspeed_client(fresh_lightspeed: RunningSimulator) -> Iterator[httpx.Client]:
    """A client for `fresh_lightspeed`."""
    with lightspeed_client(fresh_lightspeed) as client:
        yield client
