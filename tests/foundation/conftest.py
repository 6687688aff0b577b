"""Fixtures for the foundation tests: embedded servers held by other processes.

CLI tests run `possync` with `possync_cli` (in this process) or `possync_process` (a real
process), from tests/support/cli.py.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

# A process that holds an embedded server open until its stdin closes, like a long-running
# `possync serve` would.
_HOLDER_SCRIPT = """
import sys
from pathlib import Path
from possync.db.connection import start_embedded_server
print(start_embedded_server(Path(sys.argv[1])), flush=True)
sys.stdin.readline()
"""


@dataclass(frozen=True)
class Postmaster:
    """The first lines of an embedded server's postmaster.pid."""

    pid: int
    listen_addresses: str

    @property
    def running(self) -> bool:
        # A stopped postmaster can linger as a zombie when nothing reaps orphans (containers).
        try:
            stat = Path(f"/proc/{self.pid}/stat").read_text()
        except FileNotFoundError:
            return False
        state = stat.rsplit(")", 1)[1].split()[0]
        return state not in ("Z", "X")


def read_postmaster(data_dir: Path) -> Postmaster | None:
    """The running embedded server under `data_dir`, or None when it is stopped."""
    pid_file = data_dir / "pgdata" / "postmaster.pid"
    if not pid_file.exists():
        return None
    lines = pid_file.read_text().splitlines()
    return Postmaster(pid=int(lines[0]), listen_addresses=lines[5].strip())


@pytest.fixture
def server_dir() -> Iterator[Path]:
    """A data dir for an embedded server, outside pytest's base temp dir.

    pytest tightens its base temp dir to mode 0700 whenever a session starts, and the embedded
    server runs as another user when we are root: another pytest starting meanwhile (another
    checkout on this machine) would lock our server out of its own files.
    """
    path = Path(tempfile.mkdtemp(prefix="possync-test-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@contextmanager
def embedded_server_holder(data_dir: Path) -> Iterator[str]:
    """Start (or join) the embedded server under `data_dir` in another process; yield its URL.

    Leaving the block ends that process, which stops the server if it was the last user.
    """
    with embedded_server_process(data_dir) as (url, _holder):
        yield url


@contextmanager
def embedded_server_process(data_dir: Path) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """Like `embedded_server_holder`, also yielding the process (a test may kill it)."""
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER_SCRIPT, str(data_dir)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdin is not None and holder.stdout is not None
    try:
        url = holder.stdout.readline().strip()
        assert url.startswith("postgresql://"), f"embedded server did not start: {url!r}"
        yield url, holder
    finally:
        holder.stdin.close()
        try:
            holder.wait(timeout=30)
        except subprocess.TimeoutExpired:
            holder.kill()
            holder.wait()
        holder.stdout.close()
