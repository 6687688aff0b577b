"""A local simulator of the Lightspeed X-Series API 2.0 and the Square API.

Deterministic store data from a seed and a scale, time travel, fault injection and ground
truth. Used by the demo, the tests and the benchmarks; production modules never import it.
"""

from possync.simulator.app import ApiSimulation, Simulator
from possync.simulator.clock import SimClock
from possync.simulator.config import SCALES, SimulatorConfig
from possync.simulator.faults import FaultConfig, FaultInjector
from possync.simulator.server import RunningSimulator, running_simulator, serve_forever

__all__ = [
    "SCALES",
    "ApiSimulation",
    "FaultConfig",
    "FaultInjector",
    "RunningSimulator",
    "SimClock",
    "Simulator",
    "SimulatorConfig",
    "running_simulator",
    "serve_forever",
]
