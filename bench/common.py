"""Shared pieces of the benchmarks: a simulator in its own process, a scratch database on the
embedded PostgreSQL, timing and peak-memory helpers. Nothing here is imported by possync."""

from __future__ import annotations

import contextlib
import json
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
from typing import Any

import httpx
import psutil
import psycopg
from psycopg import sql

from possync.config.settings import DEFAULT_SIMULATOR_TOKEN, Settings, load_settings
from possync.db.connection import Database, start_embedded_server
from possync.db.migrate import migrate
from possync.sources.registry import tables_for

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"
DATA_DIR = Path(os.environ.get("POSSYNC_BENCH_DATA_DIR", "/tmp/possync-bench"))
SALE_TABLES = ("lightspeed_sales", "lightspeed_sale_line_items", "lightspeed_sale_payments")


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
        cwd=ROOT,
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


def clean_env(**possync: str) -> dict[str, str]:
    """This process's environment without any POSSYNC_ setting, plus `possync` (names without
    the prefix, e.g. `database_url=…`), with the repository on PYTHONPATH for `-m bench.…`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("POSSYNC_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.update({f"POSSYNC_{name.upper()}": value for name, value in possync.items()})
    return env


def possync_env(db: Database, sim: SimulatorProcess, **possync: str) -> dict[str, str]:
    """The environment of a `possync` command syncing `sim`'s Lightspeed store into `db`."""
    return clean_env(
        database_url=db.url,
        lightspeed_url=sim.lightspeed_url,
        lightspeed_token=sim.token,
        **possync,
    )


def possync_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "possync", *args]


def simulator_requests(sim: SimulatorProcess) -> int:
    """Lightspeed requests the simulator has answered so far (429s included)."""
    stats = httpx.get(f"{sim.base_url}/_simulator/stats", timeout=10).json()
    return int(stats["requests"].get("lightspeed", 0))


def count_rows(db: Database, tables: tuple[str, ...] = SALE_TABLES) -> int:
    """Rows in `tables` (by default sales + line items + payments), counted in SQL."""
    total = 0
    with db.connect() as conn:
        for table in tables:
            row = conn.execute(
                sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))
            ).fetchone()
            total += int(row[0]) if row else 0
    return total


def run_measured(
    args: list[str], env: dict[str, str], *, check: bool = True
) -> tuple[float, float]:
    """Run a command; return (wall seconds, peak RSS in MiB of that process and its children,
    summed: possync's writer process counts). With `check`, a non-zero exit raises
    RuntimeError.

    RSS is sampled every 20 ms with psutil: the kernel's ru_maxrss would count the pages the
    parent shared with the child between fork and exec."""
    started = time.perf_counter()
    process = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, cwd=ROOT)
    watched = psutil.Process(process.pid)
    peak = 0
    while process.poll() is None:
        with contextlib.suppress(psutil.Error):
            tree = [watched, *watched.children(recursive=True)]
            peak = max(peak, sum(_rss(process) for process in tree))
        time.sleep(0.02)
    elapsed = time.perf_counter() - started
    if check and process.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:4])}… exited {process.returncode}")
    return elapsed, peak / 2**20


def _rss(process: psutil.Process) -> int:
    try:
        return int(process.memory_info().rss)
    except psutil.Error:  # ended between listing and reading
        return 0


@dataclass(frozen=True)
class RunTotals:
    """Counters summed over the `sync_log` rows of the runs after a given row id."""

    entities: int
    records: int
    requests: int
    rate_limited: int
    waited_seconds: float
    failed: int


def last_sync_log_id(db: Database) -> int:
    with db.connect() as conn:
        row = conn.execute("SELECT coalesce(max(id), 0) FROM sync_log").fetchone()
        return int(row[0]) if row else 0


def run_totals(db: Database, after_id: int, source: str = "lightspeed") -> RunTotals:
    """What `sync_log` recorded for the runs that started after row `after_id`. Child entities
    (sale line items, payments) repeat their parent's counters, so only synced entities count."""
    with db.connect() as conn:
        row = conn.execute(
            """SELECT count(*), coalesce(sum(records_processed), 0),
                      coalesce(sum((metadata->>'requests')::bigint), 0),
                      coalesce(sum((metadata->>'rate_limited')::bigint), 0),
                      coalesce(sum((metadata->>'waited_seconds')::numeric), 0),
                      count(*) FILTER (WHERE status <> 'completed')
               FROM sync_log WHERE id > %s AND source = %s AND entity_type = ANY(%s)""",
            (after_id, source, list(tables_for(source))),
        ).fetchone()
    if row is None:
        raise RuntimeError("sync_log could not be read")
    return RunTotals(int(row[0]), int(row[1]), int(row[2]), int(row[3]), float(row[4]), int(row[5]))


def write_results(name: str, text: str, numbers: dict[str, Any]) -> None:
    """Print a benchmark's markdown and keep it, with its key numbers as JSON for run_all,
    in bench/results/NAME.md and NAME.json."""
    print(text)
    RESULTS_DIR.mkdir(exist_ok=True)
    (RESULTS_DIR / f"{name}.md").write_text(text)
    (RESULTS_DIR / f"{name}.json").write_text(json.dumps(numbers, indent=2) + "\n")


_UNESCAPE = {"\\\\": "\\", "\\n": "\n", "\\r": "\r", "\\t": "\t"}


def copy_rows(data: bytes) -> list[list[str | None]]:
    """A COPY text buffer (what validation produces) back into rows of text values (None for
    NULL), for the row-by-row baseline's parameters: PostgreSQL casts each to its column."""
    rows: list[list[str | None]] = []
    for line in data.decode("utf-8").split("\n")[:-1]:  # each row ends with a newline
        rows.append([_unescape_field(field) for field in line.split("\t")])
    return rows


def _unescape_field(field: str) -> str | None:
    if field == "\\N":
        return None
    if "\\" not in field:
        return field
    out, i = [], 0
    while i < len(field):
        pair = field[i : i + 2]
        if pair in _UNESCAPE:
            out.append(_UNESCAPE[pair])
            i += 2
        else:
            out.append(field[i])
            i += 1
    return "".join(out)
