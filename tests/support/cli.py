"""Two ways to run `possync ARGS` with a given environment, both answering a `CommandResult`:

- `possync_cli`: in this process with click's `CliRunner` (fast; the usual way);
- `possync_process`: the installed console script in a subprocess, for what only a real
  process shows (the entry point itself, signals, a closed pipe, everything a run prints).

Either way the environment is the whole environment of the command (see `environment`), the
working directory holds no `.env`, and nothing is read from the developer's settings.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import chdir, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from possync.cli.main import main

POSSYNC_SCRIPT = Path(sys.executable).with_name("possync")


@dataclass(frozen=True)
class CommandResult:
    """What one run of `possync` did."""

    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def stderr_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.strip()]

    def explain(self) -> str:
        return (
            f"possync {' '.join(self.args)} -> rc={self.returncode} in {self.seconds:.1f}s\n"
            f"stdout:\n{self.stdout}\nstderr:\n{self.stderr}"
        )


RunPossync = Callable[..., CommandResult]


def invoke_possync(args: tuple[str, ...], env: dict[str, str], workdir: Path) -> CommandResult:
    """`possync ARGS` in this process, as its console script would run it: the environment is
    exactly `env`, logging is configured by the command (not pytest), and an exception that
    escapes prints its traceback on stderr with exit code 1."""
    started = time.monotonic()
    unset: dict[str, str | None] = {name: None for name in os.environ if name not in env}
    with chdir(workdir), _root_logging_left_to_the_command():
        result = CliRunner().invoke(main, list(args), env={**unset, **env})
    stderr = result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        stderr += "".join(traceback.format_exception(result.exception))
    return CommandResult(
        args=args,
        returncode=result.exit_code,
        stdout=result.stdout,
        stderr=stderr,
        seconds=time.monotonic() - started,
    )


@contextmanager
def _root_logging_left_to_the_command() -> Iterator[None]:
    """The command's `logging.basicConfig` does nothing while pytest's capture handlers sit on
    the root logger, which would hide every warning a real run prints on stderr: take them
    off for the command, and put back what was there before."""
    root, psycopg_logger = logging.getLogger(), logging.getLogger("psycopg")
    handlers, level, psycopg_level = root.handlers[:], root.level, psycopg_logger.level
    root.handlers.clear()
    try:
        yield
    finally:
        for added in root.handlers:
            added.close()
        root.handlers[:] = handlers
        root.setLevel(level)
        psycopg_logger.setLevel(psycopg_level)


def run_possync_process(
    args: tuple[str, ...], env: dict[str, str], workdir: Path, timeout: float = 60.0
) -> CommandResult:
    """`possync ARGS` as a real process: the installed console script."""
    assert POSSYNC_SCRIPT.exists(), f"{POSSYNC_SCRIPT} is missing: install with tasks.py"
    started = time.monotonic()
    completed = subprocess.run(
        [str(POSSYNC_SCRIPT), *args],
        env=env,
        cwd=workdir,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return CommandResult(
        args=args,
        returncode=completed.returncode,
        stdout=completed.stdout,
        stderr=completed.stderr,
        seconds=time.monotonic() - started,
    )


@pytest.fixture
def command_workdir(tmp_path: Path) -> Path:
    """An empty working directory for `possync` commands: no `.env` to read."""
    workdir = tmp_path / "cwd"
    workdir.mkdir()
    return workdir


@pytest.fixture
def possync_cli(command_workdir: Path) -> RunPossync:
    """Run `possync` in this process: possync_cli("status", "--json", env=...)."""

    def run(*args: str, env: dict[str, str]) -> CommandResult:
        return invoke_possync(args, env, command_workdir)

    return run


@pytest.fixture
def possync_process(command_workdir: Path) -> RunPossync:
    """Run the installed `possync` script: possync_process("status", env=..., timeout=30)."""

    def run(*args: str, env: dict[str, str], timeout: float = 60.0) -> CommandResult:
        return run_possync_process(args, env, command_workdir, timeout)

    return run
