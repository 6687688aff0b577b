"""Many simulated stores in one simulator (`--stores N`), each built on its first request.

Store k is one Lightspeed retailer and one Square merchant with its own data, faults, rate-limit
budget and request counts. Store 1 is the `--scale` store of `--seed`, built at start exactly as
a one-store simulator builds it; stores 2..N are smaller (see `store_scale`) and seeded from
(seed, k). A store built late replays every `advance` made before it existed, step by step, so
its data depend only on the seed, k and the advances, never on when it was first asked for.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from possync.simulator.clock import SimClock
from possync.simulator.config import SimulatorConfig
from possync.simulator.faults import FaultConfig, FaultInjector

# Every tenth extra store is "small"; the others "tiny" (about 4 MiB each, see docs/simulator.md).
SMALL_STORE_EVERY = 10


def store_scale(number: int, first_scale: str) -> str:
    """Store 1 has the configured scale; every tenth other store is small, the rest tiny."""
    if number == 1:
        return first_scale
    return "small" if number % SMALL_STORE_EVERY == 0 else "tiny"


def store_seed(seed: int, number: int) -> int:
    """Store 1 keeps the seed (its data are a one-store simulator's); others derive theirs."""
    return seed if number == 1 else seed * 1_000_003 + number


def domain_prefix(number: int) -> str:
    """Store k's Lightspeed domain prefix, as the OAuth redirect and URL paths name it."""
    return f"store-{number}"


def store_of_prefix(prefix: str) -> int | None:
    """The store number a domain prefix names, or None."""
    head, _, digits = prefix.partition("-")
    if head != "store" or not digits.isdigit() or digits.startswith("0"):
        return None
    return int(digits)


class SimulatedStore:
    """One store: its APIs (name → ApiSimulation), fault injector and request counts."""

    def __init__(
        self, number: int, apis: dict[str, Any], faults: FaultInjector, clock: SimClock
    ) -> None:
        self.number = number
        self.apis = apis
        self.faults = faults
        self.clock = clock
        self.domain_prefix = domain_prefix(number)
        self._lock = threading.Lock()
        self._requests: dict[str, int] = {}

    def count_request(self, api: str) -> None:
        """Count one request to `api` (thread-safe)."""
        with self._lock:
            self._requests[api] = self._requests.get(api, 0) + 1

    def stats(self) -> dict[str, int]:
        """Requests served per API."""
        with self._lock:
            return dict(self._requests)

    def advance(self, minutes: int) -> dict[str, Any]:
        """Let this store's APIs trade `minutes` (its clock has already moved)."""
        return {name: api.advance(minutes) for name, api in self.apis.items()}

    def merchant_id(self) -> str | None:
        """The Square merchant id, when Square is served."""
        square = self.apis.get("square")
        return None if square is None else str(square.merchant_id)


class StoreSet:
    """Stores 1..N: store 1 built now on the shared clock, the others on first use."""

    def __init__(
        self,
        config: SimulatorConfig,
        clock: SimClock,
        build_apis: Callable[[int, str, SimClock], dict[str, Any]],
    ) -> None:
        self.config = config
        self.count = config.stores
        self._shared_clock = clock
        self._build_apis = build_apis
        self._lock = threading.RLock()
        self._advances: list[int] = []
        self._fault_config: FaultConfig = config.faults
        self._stores: dict[int, SimulatedStore] = {}
        self._stores[1] = SimulatedStore(
            1, build_apis(config.seed, config.scale, clock), FaultInjector(config.faults), clock
        )

    def get(self, number: int) -> SimulatedStore:
        """Store `number` (1..N), built now if it has not been yet; ValueError outside 1..N."""
        if not 1 <= number <= self.count:
            raise ValueError(f"store must be a whole number from 1 to {self.count}")
        store = self._stores.get(number)
        if store is not None:
            return store
        with self._lock:
            store = self._stores.get(number)
            if store is None:
                store = self._build(number)
                self._stores[number] = store
            return store

    def built(self) -> list[SimulatedStore]:
        """The stores built so far, by number."""
        with self._lock:
            return [self._stores[k] for k in sorted(self._stores)]

    def advance(self, minutes: int) -> dict[int, dict[str, Any]]:
        """Let every built store trade `minutes` (the shared clock has moved); remember the
        step for stores built later."""
        with self._lock:
            self._advances.append(minutes)
            changes: dict[int, dict[str, Any]] = {}
            for number, store in sorted(self._stores.items()):
                if store.clock is not self._shared_clock:
                    store.clock.advance(minutes)
                changes[number] = store.advance(minutes)
            return changes

    def set_faults(self, config: FaultConfig, number: int | None = None) -> None:
        """Faults for store `number`, or for every store (built or not) when None."""
        with self._lock:
            if number is not None:
                self.get(number).faults.configure(config)
                return
            self._fault_config = config
            for store in self._stores.values():
                store.faults.configure(config)

    def _build(self, number: int) -> SimulatedStore:
        clock = SimClock()
        apis = self._build_apis(
            store_seed(self.config.seed, number), store_scale(number, self.config.scale), clock
        )
        store = SimulatedStore(number, apis, FaultInjector(self._fault_config), clock)
        for minutes in self._advances:
            clock.advance(minutes)
            store.advance(minutes)
        return store
