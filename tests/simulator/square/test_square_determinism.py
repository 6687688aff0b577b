"""Same seed and scale → the same bytes, before and after time travel; small builds fast."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx

from possync.simulator import SimClock, SimulatorConfig, running_simulator
from possync.simulator.square import SquareStore
from tests.simulator.square.square_support import CATALOG_TYPES, chunks, square_client

DIGEST_SCRIPT = """
import hashlib
import orjson
from possync.simulator import SimClock
from possync.simulator.square import SquareStore
clock = SimClock()
store = SquareStore(11, "small", clock)
clock.advance(2000)
store.advance(2000)
digest = hashlib.sha256()
data = store.data
for table in (data.orders, data.payments, data.refunds, data.customers, data.catalog, data.counts):
    for record in table.values():
        digest.update(record.json)
digest.update(orjson.dumps(store.truth(), option=orjson.OPT_SORT_KEYS))
print(digest.hexdigest())
"""


def raw_pages(client: httpx.Client) -> Iterator[bytes]:
    """The bytes of a fixed sequence of requests covering every endpoint."""
    locations = client.get("/v2/locations")
    yield locations.content
    ids = [location["id"] for location in locations.json()["locations"]]
    requests: list[tuple[str, str, dict[str, object]]] = [
        (
            "POST",
            "/v2/catalog/search",
            {"object_types": CATALOG_TYPES, "include_deleted_objects": True},
        ),
        ("GET", "/v2/catalog/list", {}),
        ("POST", "/v2/inventory/counts/batch-retrieve", {"limit": 500}),
        ("GET", "/v2/customers", {}),
        ("POST", "/v2/customers/search", {"query": {"sort": {"field": "CREATED_AT"}}}),
        ("GET", "/v2/refunds", {}),
        *[("GET", "/v2/payments", {"location_id": i}) for i in ids],
        *[("POST", "/v2/orders/search", {"location_ids": c, "limit": 1000}) for c in chunks(ids)],
    ]
    for method, path, payload in requests:
        cursor = None
        while True:
            extra = {"cursor": cursor} if cursor else {}
            if method == "GET":
                response = client.get(path, params={**payload, **extra})
            else:
                response = client.post(path, json={**payload, **extra})
            assert response.status_code == 200, response.text
            yield response.content
            cursor = response.json().get("cursor")
            if not cursor:
                break


def digest_of(client: httpx.Client) -> str:
    digest = hashlib.sha256()
    for chunk in raw_pages(client):
        digest.update(chunk)
    return digest.hexdigest()


def test_same_seed_same_bytes_through_time_travel() -> None:
    digests: dict[str, list[str]] = {}
    for name, seed in (("a", 1), ("b", 1), ("other", 2)):
        config = SimulatorConfig(seed=seed, scale="small", lightspeed=False)
        with running_simulator(config) as sim, square_client(sim) as client:
            first = digest_of(client)
            sim.simulator.advance(36 * 60)
            digests[name] = [first, digest_of(client), str(sim.simulator.truth())]
    assert digests["a"] == digests["b"]
    assert digests["a"][0] != digests["a"][1], "time travel changed something"
    assert digests["other"][0] != digests["a"][0]


def test_bytes_do_not_depend_on_hash_randomization() -> None:
    outputs = set()
    for hash_seed in ("1", "4242"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        result = subprocess.run(
            [sys.executable, "-c", DIGEST_SCRIPT],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        outputs.add(result.stdout.strip())
    assert len(outputs) == 1


def test_small_builds_within_a_second_of_cpu() -> None:
    started = time.process_time()
    store = SquareStore(3, "small", SimClock())
    elapsed = time.process_time() - started
    assert elapsed < 1.0, f"small took {elapsed:.2f}s of CPU"
    assert len(store.data.locations) == 12
    assert 1_900 <= len(store.data.orders) <= 2_300
