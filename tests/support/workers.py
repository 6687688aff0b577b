"""Real `possync worker` processes for a test: started with an environment, stopped like a
terminal's Ctrl-C (SIGINT, then a kill after 30 s) when the test ends."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

POSSYNC = Path(sys.executable).with_name("possync")


@contextmanager
def worker_processes(
    env: dict[str, str], workdir: Path, count: int = 2
) -> Iterator[list[subprocess.Popen[bytes]]]:
    processes = [
        subprocess.Popen(
            [str(POSSYNC), "worker"],
            env=env,
            cwd=workdir,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for _ in range(count)
    ]
    try:
        yield processes
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
