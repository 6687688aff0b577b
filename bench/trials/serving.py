"""Running `possync serve` in a subprocess (CLI, browser and field tests), and reading its pages."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bench.trials.environment import possync_environment, setting_variables

POSSYNC = Path(sys.executable).with_name("possync")
_READY = re.compile(r"dashboard: (http://\S+/)")
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def clean_env(**values: str) -> dict[str, str]:
    """The environment without the developer's POSSYNC_ variables, plus `values`."""
    return possync_environment(**setting_variables(**values))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@dataclass
class Served:
    process: subprocess.Popen[str]
    url: str
    output: list[str] = field(default_factory=list)

    def stop(self, sig: int = signal.SIGINT, timeout: float = 60) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            pytest.fail(f"possync serve did not stop within {timeout} s:\n" + "".join(self.output))


@contextmanager
def serving(
    env: dict[str, str],
    cwd: Path,
    *args: str,
    timeout: float = 60,
    as_background_job: bool = False,
) -> Iterator[Served]:
    """`possync serve --port <free> *args`, once it announced its URL; stopped afterwards.

    `as_background_job`: start it as a shell starts `cmd &`, with SIGINT ignored."""
    port = free_port()
    process = subprocess.Popen(
        [str(POSSYNC), "serve", "--port", str(port), *args],
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=_ignore_sigint if as_background_job else None,
    )
    output: list[str] = []
    ready = threading.Event()
    found: list[str] = []

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line)
            match = _READY.search(line)
            if match and not found:
                found.append(match.group(1))
                ready.set()
        ready.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    deadline = time.monotonic() + timeout
    while not ready.wait(0.2):
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail("possync serve did not start:\n" + "".join(output))
    if not found:
        process.wait()
        pytest.fail(f"possync serve exited with {process.returncode}:\n" + "".join(output))
    served = Served(process, found[0], output)
    try:
        yield served
    finally:
        served.stop()


def csrf_from(html: str) -> str:
    """The CSRF token of a dashboard page's form."""
    match = _CSRF.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1)
