"""The simulated Square API: deterministic seller data, time travel, faults and truth."""

from possync.simulator.square.store import SquareStore

__all__ = ["SquareStore"]
