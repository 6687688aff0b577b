"""Shared pieces of the benchmarks: a simulator in its own process, a scratch database on the
embedded PostgreSQL, timing and peak-memory helpers. Nothing here is imported by possync."""

from __future__ import annotations

import contextlib
import os
import platform
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil
import psycopg
from psycopg import sql

from possync.config import DEFAULT_SIMULATOR_TOKEN, Settings, load_settings
from possync.db import Database, start_embedded_server
from possync.migrate import migrate

BENCH_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(os.environ.get("POSSYNC_BENCH_DATA_DIR", "/tmp/possync-bench"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class SimulatorProcess:
    process: subprocess.Popen[bytes]
    port: int
    token: str = DEFAULT_SIMULATOR_TOKEN

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def lightspeed_url(self) -> str:
        return f"{self.base_url}/api/2.0"


@contextmanager
def simulator_process(
    scale: str, *, seed: int = 1, extra_args: tuple[str, ...] = ()
) -> Iterator[SimulatorProcess]:
    """`possync simulator` in a separate process, so its memory and CPU are not the sync's."""
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "possync",
            "simulator",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--seed",
            str(seed),
            "--scale",
            scale,
            *extra_args,
        ],
        stdout=subprocess.DEVNULL,
    )
    sim = SimulatorProcess(process, port)
    try:
        deadline = time.monotonic() + 900
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError("the simulator exited early")
            try:
                httpx.get(f"{sim.base_url}/_simulator/faults", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.5)
        yield sim
    finally:
        process.terminate()
        process.wait(30)


def server() -> Database:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    return Database(start_embedded_server(DATA_DIR), "public")


@contextmanager
def scratch_database(*, migrated: bool = True) -> Iterator[Database]:
    """A new database on the benchmark's embedded server, dropped afterwards."""
    root = server()
    name = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(root.url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    db = root.with_database_name(name)
    try:
        if migrated:
            migrate(db, bench_settings(db))
        yield db
    finally:
        with psycopg.connect(root.url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


def bench_settings(db: Database, **overrides: object) -> Settings:
    return load_settings(_env_file=None, database_url=db.url, data_dir=DATA_DIR, **overrides)


def machine_line() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{os.cpu_count()} cores ({cpu}), {mem_gb:.0f} GiB RAM, Python {platform.python_version()}"
    )


def run_measured(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Run a command; return (wall seconds, peak RSS in MiB of that process).

    RSS is sampled every 20 ms with psutil: the kernel's ru_maxrss would count the pages the
    parent shared with the child between fork and exec."""
    started = time.perf_counter()
    process = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL)
    watched = psutil.Process(process.pid)
    peak = 0
    while process.poll() is None:
        with contextlib.suppress(psutil.Error):
            peak = max(peak, watched.memory_info().rss)
        time.sleep(0.02)
    elapsed = time.perf_counter() - started
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:4])}… exited {process.returncode}")
    return elapsed, peak / 2**20
