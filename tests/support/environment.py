"""The environment a `possync` command runs in: none of the developer's POSSYNC_ variables,
only the ones a test sets, and (in this process) a working directory without a `.env`."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import pytest
from bench.trials.environment import PREFIX, possync_environment, setting_variables

from possync.db.connection import Database

__all__ = ["possync_environment", "setting_variables"]


def environment_for(database: Database, data_dir: Path, **variables: str) -> dict[str, str]:
    """An environment pointing possync at `database` and `data_dir`, plus `variables`."""
    return possync_environment(
        POSSYNC_DATABASE_URL=database.url, POSSYNC_DATA_DIR=str(data_dir), **variables
    )


def set_possync_variables(monkeypatch: pytest.MonkeyPatch, env: Mapping[str, str]) -> None:
    """In this process, until the test ends: the POSSYNC_ variables are exactly `env`'s."""
    for name in list(os.environ):
        if name.startswith(PREFIX):
            monkeypatch.delenv(name)
    for name, value in env.items():
        if name.startswith(PREFIX):
            monkeypatch.setenv(name, value)


@pytest.fixture
def isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """For code that reads settings in this process: no POSSYNC_ variable, and a working
    directory with no `.env` (returned, so a test can write one there)."""
    set_possync_variables(monkeypatch, {})
    monkeypatch.chdir(tmp_path)
    return tmp_path
