"""`possync serve`: refuses to start without a password; serves, then stops cleanly."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import httpx

from possync.db import Database
from tests.web.conftest import PASSWORD
from tests.web.serving import POSSYNC, clean_env, serving


def test_serve_refuses_to_start_without_a_password(db: Database, tmp_path: Path) -> None:
    result = subprocess.run(
        [str(POSSYNC), "serve"],
        env=clean_env(database_url=db.url),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: POSSYNC_DASHBOARD_PASSWORD is not set: set it to the password for the dashboard"
    ]


def test_serve_answers_then_stops_on_ctrl_c_and_sigterm(db: Database, tmp_path: Path) -> None:
    env = clean_env(database_url=db.url, dashboard_password=PASSWORD)
    with serving(env, tmp_path) as served:
        assert "(with a worker and the schedules)" in "".join(served.output)
        health = httpx.get(served.url + "healthz", timeout=10)
        assert health.status_code == 200 and health.json()["status"] == "ok"
        login = httpx.get(served.url + "login", timeout=10)
        assert login.status_code == 200 and "Log in" in login.text
        assert served.stop(signal.SIGINT) == 0
        with db.connect() as conn:  # the worker unregistered itself on the way out
            workers = conn.execute("SELECT count(*) FROM procrastinate_workers").fetchone()
        assert workers == (0,)
    with serving(env, tmp_path, "--no-worker") as served:
        assert httpx.get(served.url + "healthz", timeout=10).status_code == 200
        assert served.stop(signal.SIGTERM) == 0
    assert "Traceback" not in "".join(served.output)
