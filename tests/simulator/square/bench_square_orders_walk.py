"""Throughput of a full SearchOrders walk against the Square simulator.

Run: ``.venv/bin/python -m tests.simulator.square.bench_square_orders_walk small medium``

Two numbers per scale: over HTTP (werkzeug's threaded server + httpx + orjson parsing, what a
sync sees) and in-process (building the pages only, the simulator's own cost).
"""

from __future__ import annotations

import sys
import time
from typing import Any

import orjson

from possync.simulator import FaultInjector, SimClock, SimulatorConfig, running_simulator
from possync.simulator.square.common import now_ms
from possync.simulator.square.endpoints_orders import search_orders
from possync.simulator.square.store import SquareStore
from tests.simulator.square.square_support import chunks, location_ids, square_client

QUERY = {
    "filter": {"date_time_filter": {"updated_at": {"start_at": "2000-01-01T00:00:00Z"}}},
    "sort": {"sort_field": "UPDATED_AT", "sort_order": "ASC"},
}


def walk_http(scale: str) -> tuple[int, int, float, float]:
    """(orders, pages, seconds, build seconds) for a walk over HTTP."""
    started = time.perf_counter()
    config = SimulatorConfig(scale=scale, lightspeed=False)
    with running_simulator(config) as sim, square_client(sim) as client:
        built = time.perf_counter() - started
        orders = pages = 0
        started = time.perf_counter()
        for chunk in chunks(location_ids(client)):
            body: dict[str, Any] = {"location_ids": chunk, "limit": 1000, "query": QUERY}
            while True:
                page = orjson.loads(
                    client.post("/v2/orders/search", content=orjson.dumps(body)).content
                )
                pages += 1
                orders += len(page.get("orders", ()))
                if "cursor" not in page:
                    break
                body["cursor"] = page["cursor"]
        return orders, pages, time.perf_counter() - started, built


def walk_in_process(store: SquareStore, now: int) -> tuple[int, float]:
    """(orders, seconds spent building the same pages without HTTP; parsing not counted)."""
    faults = FaultInjector()
    orders = 0
    building = 0.0
    for chunk in chunks(list(store.data.locations)):
        body: dict[str, Any] = {"location_ids": chunk, "limit": 1000, "query": QUERY}
        while True:
            started = time.perf_counter()
            raw = search_orders(store.data, body, faults, now)
            building += time.perf_counter() - started
            page = orjson.loads(raw)
            orders += len(page.get("orders", ()))
            if "cursor" not in page:
                break
            body["cursor"] = page["cursor"]
    return orders, building


def main(scales: list[str]) -> None:
    """Print one line per scale."""
    for scale in scales:
        orders, pages, seconds, built = walk_http(scale)
        print(
            f"{scale}: built in {built:.1f} s; HTTP walk {orders} orders, {pages} pages "
            f"in {seconds:.2f} s = {orders / seconds:,.0f} orders/s"
        )
        clock = SimClock()
        store = SquareStore(1, scale, clock)
        orders, seconds = walk_in_process(store, now_ms(clock.now()))
        print(f"{scale}: in-process page building {orders / seconds:,.0f} orders/s")


if __name__ == "__main__":
    main(sys.argv[1:] or ["small", "medium"])
