"""A database URL's password is never printed, however it is written, even with `--debug`."""

from __future__ import annotations

import pytest

from tests.support.cli import RunPossync
from tests.support.environment import possync_environment

SECRET = "Tr0ub4dor-and-3"


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql://shop@127.0.0.1:1/x?password={SECRET}%ZZ",
        f"postgresql://shop@127.0.0.1:1/x?sslmode=disable&password=%2G{SECRET}",
        f"postgresql://shop:{SECRET}%Z@127.0.0.1:1/x",
        f"postgresql://shop@127.0.0.1:1/x?password={SECRET}&sslmode=bogus",
    ],
    ids=["query-bad-escape", "query-second-bad-escape", "userinfo-bad-escape", "bad-option"],
)
@pytest.mark.parametrize("debug", [False, True], ids=["plain", "debug"])
def test_database_url_password_is_never_echoed(
    possync_cli: RunPossync, possync_process: RunPossync, url: str, debug: bool
) -> None:
    # With --debug, everything a real process prints (traceback, debug logs) is searched.
    run = possync_process if debug else possync_cli
    args = ("--debug", "status") if debug else ("status",)
    result = run(*args, env=possync_environment(POSSYNC_DATABASE_URL=url))
    assert result.returncode == 1, result.explain()
    assert SECRET not in result.stdout + result.stderr, result.explain()
    assert "127.0.0.1:1/x" in result.stderr, result.explain()
    if not debug:
        [line] = result.stderr_lines
        assert line.startswith("error: cannot connect to PostgreSQL at 127.0.0.1:1/x: ")
        if "%Z" in url or "%2G" in url:
            assert "invalid percent-encoding in the URL (write a literal % as %25)" in line
