"""`ApiClient.server_time`: the POS's clock from its `Date` header (Square windows use it)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from possync.simulator import SimulatorConfig, running_simulator
from possync.sources.http import ApiClient


def test_server_time_is_the_clock_of_the_last_answer() -> None:
    config = SimulatorConfig(seed=3, scale="small", lightspeed=False)
    with running_simulator(config) as sim, ApiClient(sim.square_url, sim.token) as client:
        assert client.server_time() is None  # nothing answered yet
        client.get_json("/v2/locations")
        start = client.server_time()
        assert start == sim.simulator.clock.now().replace(microsecond=0)
        assert start is not None and start.tzinfo is not None
        sim.simulator.advance(90)
        client.get_json("/v2/locations")
        assert client.server_time() == start + timedelta(minutes=90)
        # The simulator answers on its own clock, never the machine's.
        assert client.server_time() != datetime.now(UTC).replace(microsecond=0)
