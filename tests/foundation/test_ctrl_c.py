"""Ctrl-C in a terminal: `python3 tasks.py demo` stops with one line and leaves no PostgreSQL.

A terminal's Ctrl-C sends SIGINT to the whole foreground process group (tasks.py, possync and
the writer process alike); the test starts the demo in its own session and does the same.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from bench.trials.serving import free_port

from tests.support.environment import possync_environment

ROOT = Path(__file__).resolve().parents[2]


def _postmaster_pid(pgdata: Path) -> int | None:
    pid_file = pgdata / "postmaster.pid"
    try:
        return int(pid_file.read_text().splitlines()[0])
    except (OSError, ValueError, IndexError):
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.parametrize(
    "interrupt_after",
    ["importing the simulated lightspeed store", "press Ctrl-C to stop"],
    ids=["during-import", "while-serving"],
)
def test_demo_ctrl_c_prints_one_line_and_stops_postgres(
    tmp_path: Path, interrupt_after: str
) -> None:
    env = possync_environment(POSSYNC_DATA_DIR=str(tmp_path / "data"), PYTHONUNBUFFERED="1")
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "tasks.py"), "demo", "--port", str(free_port())],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group, as a terminal's foreground job
    )
    lines: list[str] = []
    reached = threading.Event()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            if interrupt_after in line:
                reached.set()
        reached.set()

    threading.Thread(target=read, daemon=True).start()
    try:
        assert reached.wait(240), "".join(lines)
        pgdata = tmp_path / "data" / "demo" / "pgdata"
        postmaster = _postmaster_pid(pgdata)
        assert postmaster is not None and _alive(postmaster), "".join(lines)
        time.sleep(1)  # serving: the dashboard is up; importing: a page or two in
        before = len(lines)
        os.killpg(process.pid, signal.SIGINT)
        # Not a promptness bound: an interrupted walk may wait out the prefetch thread's
        # current request (Prefetcher.close joins it for up to 60 s) before the demo stops.
        returncode = process.wait(timeout=150)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    time.sleep(0.5)  # the reader thread takes the last lines
    after = [line for line in lines[before:] if line.strip()]
    output = "".join(lines)
    assert "Traceback" not in output and "KeyboardInterrupt" not in output, output
    assert len(after) == 1, output
    assert returncode in (0, 130), output
    deadline = time.monotonic() + 10
    while _alive(postmaster) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _alive(postmaster), f"the embedded PostgreSQL {postmaster} still runs:\n{output}"
