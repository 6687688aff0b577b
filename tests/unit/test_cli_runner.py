"""`possync_cli` (in this process) answers what `possync_process` (the installed script) does:
the same exit code and stdout, and on stderr what a real run prints there, logs and traceback
included, with pytest's logging put back afterwards."""

from __future__ import annotations

import logging

from tests.support.cli import RunPossync
from tests.support.environment import possync_environment

UNREACHABLE = possync_environment(POSSYNC_DATABASE_URL="postgresql://u:pw@127.0.0.1:1/x")


def test_a_failure_reads_the_same_in_process_and_in_a_process(
    possync_cli: RunPossync, possync_process: RunPossync
) -> None:
    inside = possync_cli("status", "--json", env=UNREACHABLE)
    real = possync_process("status", "--json", env=UNREACHABLE)
    assert (inside.returncode, inside.stdout, inside.stderr) == (
        real.returncode,
        real.stdout,
        real.stderr,
    ), f"{inside.explain()}\n{real.explain()}"


def test_debug_logs_and_the_traceback_reach_stderr_as_in_a_process(
    possync_cli: RunPossync, possync_process: RunPossync
) -> None:
    handlers_before = logging.getLogger().handlers[:]
    inside = possync_cli("--debug", "status", env=UNREACHABLE)
    real = possync_process("--debug", "status", env=UNREACHABLE)
    assert logging.getLogger().handlers == handlers_before
    assert inside.returncode == real.returncode == 1
    for shown in (inside, real):
        assert "Traceback (most recent call last)" in shown.stderr, shown.explain()
        assert " DEBUG " in shown.stderr, shown.explain()  # basicConfig's format, at DEBUG
    assert inside.stderr_lines[-1] == real.stderr_lines[-1]
