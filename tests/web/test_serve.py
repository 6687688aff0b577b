"""`possync serve`: refuses to start without a password; serves, then stops cleanly."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from bench.trials.serving import POSSYNC, clean_env, serving

from possync.db.connection import Database
from possync.web.serve import exposure_warning
from tests.conftest import make_settings
from tests.web.conftest import PASSWORD


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


def test_serve_started_as_a_background_job_stops_on_sigint(db: Database, tmp_path: Path) -> None:
    """A shell starts `possync serve &` with SIGINT ignored; SIGINT from a script stops it."""
    env = clean_env(database_url=db.url, dashboard_password=PASSWORD)
    with serving(env, tmp_path, "--no-worker", as_background_job=True) as served:
        assert httpx.get(served.url + "healthz", timeout=10).status_code == 200
        started = time.monotonic()
        assert served.stop(signal.SIGINT, timeout=15) == 0
        assert time.monotonic() - started < 10
    output = "".join(served.output)
    assert "Traceback" not in output
    # On loopback /metrics is unreachable from elsewhere: no warning.
    assert "POSSYNC_METRICS_TOKEN" not in output


@pytest.mark.parametrize(
    ("host", "token", "warns"),
    [
        ("127.0.0.1", None, False),
        ("localhost", None, False),
        ("::1", None, False),
        ("0.0.0.0", None, True),
        ("192.168.1.20", None, True),
        ("shop.example", None, True),
        ("0.0.0.0", "metrics-token-1234", False),
    ],
)
def test_serve_warns_when_metrics_are_open_beyond_this_machine(
    db: Database, tmp_path: Path, host: str, token: str | None, warns: bool
) -> None:
    settings = make_settings(db, tmp_path, dashboard_password=PASSWORD, metrics_token=token)
    warning = exposure_warning(host, settings)
    if warns:
        assert warning is not None and host in warning and "POSSYNC_METRICS_TOKEN" in warning
    else:
        assert warning is None
