"""Run `possync sync` in a child process and SIGKILL it once an entity is well under way."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from possync.db.connection import Database
from tests.support.environment import environment_for, setting_variables


def cli_env(db: Database, data_dir: Path, **possync: object) -> dict[str, str]:
    """The environment of a `possync` child process: this one without any POSSYNC_ setting
    of the developer's, plus the database, the data directory and `possync` (lower-case
    setting names, e.g. lightspeed_url=...)."""
    return environment_for(db, data_dir, **setting_variables(**possync))


def kill_sync_midway(
    db: Database, tmp_path: Path, env: dict[str, str], source: str, entity: str, records: int
) -> None:
    """Start `possync sync --source S`; kill -9 it once `entity` has committed `records`."""
    process = subprocess.Popen(
        [sys.executable, "-m", "possync", "sync", "--source", source],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with db.connect() as conn:
                row = conn.execute(
                    """SELECT records_processed FROM sync_log
                       WHERE entity_type = %s AND status = 'started'""",
                    (entity,),
                ).fetchone()
            if row and row[0] >= records:
                break
            time.sleep(0.02)
        else:
            pytest.fail(f"the sync never got {records} records into the {entity}")
        process.send_signal(signal.SIGKILL)
        process.wait(10)
    finally:
        if process.poll() is None:
            process.kill()
