"""How fast the simulator serves Lightspeed pages: records per second for a page walk.

For each scale, `possync simulator` runs in its own process (so the client's parsing does
not share its CPU); one httpx client walks /sales (page_size 1000, sales embed their line
items and payments) and /products (page_size 1000) by `after=version.max`, parsing every
page with orjson as a sync client would, then downloads the same pages again without
parsing. "Served" rates come from the second pass (what the simulator can deliver to one
client); the last column includes the client's own parsing.

Rerun: .venv/bin/python -m bench.simulator_throughput            (small and medium, ~1 minute)
       .venv/bin/python -m bench.simulator_throughput --scale large   (adds large, ~3 minutes)
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass

import httpx
import orjson

from bench.common import machine_line, simulator_process


@dataclass
class WalkResult:
    """One endpoint walked twice: parsing every page, then only downloading the same pages."""

    scale: str
    endpoint: str
    pages: int
    records: int
    line_items: int
    megabytes: float
    parsed_seconds: float
    served_seconds: float

    def row(self) -> str:
        served = self.records / self.served_seconds
        lines = f"{self.line_items / self.served_seconds:,.0f}" if self.line_items else "–"
        return (
            f"| {self.scale} | /{self.endpoint} | {self.pages:,} | {self.records:,} | "
            f"{served:,.0f} | {lines} | {self.megabytes / self.served_seconds:,.0f} | "
            f"{self.records / self.parsed_seconds:,.0f} |"
        )


def walk(client: httpx.Client, scale: str, endpoint: str, page_size: int) -> WalkResult:
    """Walk an endpoint to its empty page parsing every page, then fetch the same pages raw."""
    cursors, records, line_items, size = [0], 0, 0, 0
    started = time.perf_counter()
    while True:
        params = {"after": cursors[-1], "page_size": page_size}
        body = orjson.loads(client.get(f"/{endpoint}", params=params).content)
        if not body["data"]:
            break
        records += len(body["data"])
        line_items += sum(len(r.get("line_items", ())) for r in body["data"])
        cursors.append(body["version"]["max"])
    parsed_seconds = time.perf_counter() - started
    started = time.perf_counter()
    for after in cursors:
        response = client.get(f"/{endpoint}", params={"after": after, "page_size": page_size})
        size += len(response.content)
    served_seconds = time.perf_counter() - started
    return WalkResult(
        scale,
        endpoint,
        len(cursors),
        records,
        line_items,
        size / 1e6,
        parsed_seconds,
        served_seconds,
    )


def measure(scale: str) -> tuple[float, list[WalkResult]]:
    """Build time and the walks of /sales and /products at one scale."""
    started = time.perf_counter()
    with simulator_process(scale, extra_args=("--no-square",)) as sim:
        build_seconds = time.perf_counter() - started
        headers = {"Authorization": f"Bearer {sim.token}"}
        with httpx.Client(base_url=sim.lightspeed_url, headers=headers, timeout=60) as client:
            results = [
                walk(client, scale, "sales", 1000),
                walk(client, scale, "products", 1000),
            ]
    return build_seconds, results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--scale",
        choices=("small", "medium", "large"),
        default=None,
        help="also measure this scale (large is only measured when asked)",
    )
    options = parser.parse_args()
    scales = ["small", "medium"]
    if options.scale and options.scale not in scales:
        scales.append(options.scale)
    print(f"machine: {machine_line()}")
    print(
        "| scale | endpoint | pages | records | served records/s | served line items/s "
        "| served MB/s | records/s incl. orjson parse |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    builds = []
    for scale in scales:
        build_seconds, results = measure(scale)
        builds.append(f"{scale}: {build_seconds:.1f} s")
        for result in results:
            print(result.row(), flush=True)
    print(f"store build + start-up: {', '.join(builds)}")


if __name__ == "__main__":
    main()
