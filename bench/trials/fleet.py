"""A fleet of shops for the many-shops benchmark: one embedded PostgreSQL, one simulator with a
store per shop, every shop registered with `possync shops add`, and `possync worker` processes.

The shops are registered once, in a template database; each worker count then runs on its own
copy (`CREATE DATABASE … TEMPLATE`), so both start from the same empty shops.
"""

from __future__ import annotations

import dataclasses
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import httpx
import psycopg
from cryptography.fernet import Fernet
from psycopg import sql

from bench.common import ROOT, SimulatorProcess, clean_env, possync_command
from bench.trials.pgserver import RestartableServer
from possync.config.settings import Settings, load_settings
from possync.db.connection import Database
from possync.shops import registry
from possync.shops.model import schema_for
from possync.shops.resolve import cipher_for

TEMPLATE = "fleet_template"
WORKER_STOP_SECONDS = 20.0


def shop_name(store: int) -> str:
    """The shop that store `store` of the simulator is: s001, s002, …"""
    return f"s{store:03d}"


def shop_schema(store: int) -> str:
    return schema_for(shop_name(store))


@dataclasses.dataclass
class Fleet:
    """The deployment under test: its PostgreSQL server, simulator, key and scratch dir."""

    server: RestartableServer
    sim: SimulatorProcess
    shops: int
    work_dir: Path
    key: str = dataclasses.field(default_factory=lambda: Fernet.generate_key().decode())

    def env(self, db: Database) -> dict[str, str]:
        """The environment of a `possync` process of this deployment: no shop of its own."""
        return clean_env(
            database_url=db.url, encryption_key=self.key, data_dir=str(self.work_dir / "data")
        )

    def settings(self, db: Database) -> Settings:
        return load_settings(
            _env_file=None,
            database_url=db.url,
            encryption_key=self.key,
            data_dir=self.work_dir / "data",
        )

    def database(self, name: str) -> Database:
        return self.server.root.with_database_name(name)

    def token_file(self, store: int) -> Path:
        path = self.work_dir / f"token-{store}"
        path.write_text(f"{self.sim.token}-{store}\n")
        return path

    def add_shop_args(self, store: int) -> list[str]:
        token = str(self.token_file(store))
        return [
            "shops", "add", shop_name(store),
            "--lightspeed-url", self.sim.lightspeed_url, "--lightspeed-token-file", token,
            "--square-url", self.sim.base_url, "--square-token-file", token,
            "--timezone", "Europe/London",
        ]  # fmt: skip


def warm_stores(sim: SimulatorProcess, shops: int) -> None:
    """Build every simulated store now (the simulator builds a store on its first request), so
    no worker count pays for building them."""
    with httpx.Client(base_url=sim.base_url, timeout=120) as client:
        for store in range(1, shops + 1):
            client.get("/_simulator/faults", params={"store": store}).raise_for_status()


def register_shops(fleet: Fleet, parallel: int = 2) -> float:
    """Create the template database, `possync migrate` it and `possync shops add` every shop
    (`parallel` commands at a time); returns the seconds the registration took."""
    with psycopg.connect(fleet.server.root.url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(TEMPLATE)))
    template = fleet.database(TEMPLATE)
    env = fleet.env(template)
    subprocess.run(possync_command("migrate"), env=env, cwd=ROOT, check=True, capture_output=True)
    started = time.perf_counter()
    pending = list(range(1, fleet.shops + 1))
    running: list[tuple[int, subprocess.Popen[bytes]]] = []
    while pending or running:
        while pending and len(running) < parallel:
            store = pending.pop(0)
            command = possync_command(*fleet.add_shop_args(store))
            process = subprocess.Popen(
                command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
            )
            running.append((store, process))
        store, process = running.pop(0)
        _, error = process.communicate(timeout=300)
        if process.returncode != 0:
            raise RuntimeError(f"possync shops add {shop_name(store)}: {error.decode()}")
    return time.perf_counter() - started


def copy_of_template(fleet: Fleet, name: str) -> Database:
    """A fresh database holding the registered (still empty) shops."""
    with psycopg.connect(fleet.server.root.url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(name), sql.Identifier(TEMPLATE)
            )
        )
    return fleet.database(name)


def point_lightspeed_at(fleet: Fleet, db: Database, store: int, api_url: str) -> None:
    """Re-point one shop's Lightspeed connection (its token kept), as a store that moved."""
    cipher = cipher_for(fleet.settings(db))
    with db.connect() as conn:
        shop = next(s for s in registry.load_shops(conn, cipher) if s.name == shop_name(store))
        moved = dataclasses.replace(shop.connections["lightspeed"], api_url=api_url)
        registry.save_connection(conn, shop.name, moved, cipher)
        conn.commit()


def set_store_faults(sim: SimulatorProcess, store: int, **faults: float) -> None:
    """Faults of one simulated store (none given: clear them)."""
    answer = httpx.post(
        f"{sim.base_url}/_simulator/faults", params={"store": store}, json=faults, timeout=30
    )
    answer.raise_for_status()


def advance_stores(sim: SimulatorProcess, minutes: int) -> None:
    """Let every store trade `minutes` (new sales, customers, stock moves)."""
    answer = httpx.post(
        f"{sim.base_url}/_simulator/advance", json={"minutes": minutes}, timeout=600
    )
    answer.raise_for_status()


@contextmanager
def workers(fleet: Fleet, db: Database, count: int, log_dir: Path) -> Iterator[list[int]]:
    """`count` `possync worker` processes on `db`; yields their pids. Stopped with SIGTERM,
    killed if a job (a dripping request) holds one past WORKER_STOP_SECONDS."""
    processes: list[subprocess.Popen[bytes]] = []
    logs: list[IO[bytes]] = []
    try:
        for number in range(count):
            log = (log_dir / f"worker-{count}-{number}.log").open("wb")
            logs.append(log)
            processes.append(
                subprocess.Popen(
                    possync_command("worker"),
                    env=fleet.env(db),
                    cwd=ROOT,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
        yield [process.pid for process in processes]
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + WORKER_STOP_SECONDS
        for process in processes:
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(30)
        for opened in logs:
            opened.close()
