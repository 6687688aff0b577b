"""Sessions that end (logout, idle timeout), throttling that slows guessing without locking the
owner out, a password long enough, and pooled connections for anonymous traffic."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
from bench.trials.serving import POSSYNC, clean_env
from flask import Flask
from flask.testing import FlaskClient

from possync.config.settings import Settings
from possync.db.connection import Database
from possync.errors import ConfigError
from possync.web import create_app
from possync.web.throttle import LoginThrottle
from tests.conftest import make_settings
from tests.web.conftest import PASSWORD, csrf_from, log_in, page_csrf


def _copy_of_cookie(client: FlaskClient, app: Flask) -> FlaskClient:
    """Another browser holding the same cookie (a stolen or copied cookie)."""
    cookie = client.get_cookie("possync_session")
    assert cookie is not None
    thief = app.test_client()
    thief.set_cookie("possync_session", cookie.value)
    return thief


def test_logout_ends_the_session_for_every_copy_of_the_cookie(app: Flask) -> None:
    owner = app.test_client()
    assert log_in(owner).status_code == 302
    copy = _copy_of_cookie(owner, app)
    assert copy.get("/").status_code == 200  # the copy works while the session lives
    assert owner.post("/logout", data={"csrf_token": page_csrf(owner)}).status_code == 302
    page = copy.get("/")
    assert page.status_code == 302 and page.headers["Location"].startswith("/login")
    api = copy.get("/api/status")
    assert api.status_code == 401 and api.get_json()["error"] == "log in first"
    assert copy.get("/history").status_code == 302


def _idle_for(db: Database, minutes: int) -> None:
    with db.connect() as conn:
        conn.execute(
            "UPDATE dashboard_sessions SET last_seen_at = now() - %s * interval '1 minute'",
            (minutes,),
        )
        conn.commit()


def _last_seen_ages(db: Database) -> list[float]:
    with db.connect() as conn:
        rows = conn.execute(
            "SELECT extract(epoch FROM now() - last_seen_at) FROM dashboard_sessions"
        ).fetchall()
    return [float(age) for (age,) in rows]


def test_an_idle_session_ends(db: Database, web_settings: Settings) -> None:
    settings = web_settings.model_copy(update={"session_idle_minutes": 30})
    app = create_app(settings, db)
    client = app.test_client()
    assert log_in(client).status_code == 302
    _idle_for(db, 20)
    # The overview's background poll is not someone at the screen: it doesn't keep it alive.
    assert client.get("/api/status").status_code == 200
    [age] = _last_seen_ages(db)
    assert 20 * 60 - 5 < age < 20 * 60 + 60
    # Opening a page is: the session is fresh again.
    assert client.get("/").status_code == 200
    [age] = _last_seen_ages(db)
    assert age < 60
    _idle_for(db, 31)
    assert client.get("/api/status").status_code == 401
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    app.extensions["possync"].close()


def _wrong_guess(client: FlaskClient) -> int:
    token = csrf_from(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"password": "wrong guess", "csrf_token": token})
    if response.status_code == 429:
        time.sleep(int(response.headers["Retry-After"]))
        return _wrong_guess(client)
    return int(response.status_code)


def test_the_owner_is_never_locked_out_for_minutes(db: Database, web_settings: Settings) -> None:
    """Behind a proxy the attacker and the owner share one address."""
    settings = web_settings.model_copy(update={"login_max_delay_seconds": 2})
    app = create_app(settings, db)
    shared = "10.0.0.66"
    attacker = app.test_client()
    attacker.environ_base["REMOTE_ADDR"] = shared
    assert [_wrong_guess(attacker) for _ in range(8)] == [401] * 8
    owner = app.test_client()
    owner.environ_base["REMOTE_ADDR"] = shared
    first = log_in(owner)
    if first.status_code == 429:
        wait = int(first.headers["Retry-After"])
        assert 0 < wait <= 2  # seconds, not minutes
        assert "Try again in" in first.get_data(as_text=True)
        time.sleep(wait)
        first = log_in(owner)
    assert first.status_code == 302 and owner.get("/").status_code == 200
    app.extensions["possync"].close()


def test_guesses_from_many_addresses_share_one_cap(db: Database, web_settings: Settings) -> None:
    settings = web_settings.model_copy(update={"login_attempts_per_minute": 10})
    app = create_app(settings, db)
    codes = []
    for n in range(20):
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = f"10.0.1.{n}"
        codes.append(log_in(client, "wrong guess").status_code)
    assert codes[:10] == [401] * 10
    assert codes[10:] == [429] * 10  # the 11th address onwards waits
    app.extensions["possync"].close()


def test_throttle_delays_grow_and_are_capped_at_seconds() -> None:
    now = [1000.0]
    throttle = LoginThrottle(max_delay_seconds=10, attempts_per_minute=1000, clock=lambda: now[0])
    waits = []
    for _ in range(7):
        throttle.record_failure("10.0.0.1")
        waits.append(throttle.retry_after("10.0.0.1"))
    assert waits == [0, 1, 2, 4, 8, 10, 10]  # a typo is free
    assert throttle.retry_after("10.0.0.2") == 0  # another address is not slowed
    now[0] += 10
    assert throttle.retry_after("10.0.0.1") == 0
    throttle.record_success("10.0.0.1")
    throttle.record_failure("10.0.0.1")
    assert throttle.retry_after("10.0.0.1") == 0  # a correct login started it over


def test_throttle_global_cap_refills_within_seconds() -> None:
    now = [0.0]
    throttle = LoginThrottle(max_delay_seconds=10, attempts_per_minute=30, clock=lambda: now[0])
    for n in range(30):
        throttle.record_failure(f"10.0.2.{n}")
    assert throttle.retry_after("10.9.9.9") == 2  # 60 s / 30: one more try every 2 s
    now[0] += 2
    assert throttle.retry_after("10.9.9.9") == 0


@pytest.mark.parametrize("password", ["", "eleven-char"])
def test_a_short_password_is_refused_at_start(db: Database, tmp_path: Path, password: str) -> None:
    settings = make_settings(db, tmp_path, dashboard_password=password)
    with pytest.raises(ConfigError, match="POSSYNC_DASHBOARD_PASSWORD"):
        create_app(settings, db)
    result = subprocess.run(
        [str(POSSYNC), "serve", "--no-worker"],
        env=clean_env(database_url=db.url, dashboard_password=password),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    if password:
        assert line == (
            "error: POSSYNC_DASHBOARD_PASSWORD is 11 characters long: use at least 12 "
            "(a few random words are easy to type and hard to guess)"
        )
    else:
        assert line.startswith("error: POSSYNC_DASHBOARD_PASSWORD is not set")


def test_anonymous_and_polling_requests_reuse_pooled_connections(app: Flask, db: Database) -> None:
    anonymous = app.test_client()
    for _ in range(40):
        assert log_in(anonymous, "not the password at all").status_code in (401, 429)
        assert anonymous.get("/healthz").status_code == 200
    owner = app.test_client()
    owner.environ_base["REMOTE_ADDR"] = "10.0.3.1"
    assert log_in(owner, PASSWORD).status_code == 302
    for _ in range(40):
        assert owner.get("/api/status").status_code == 200
    # 160 requests, one at a time: one connection opened and reused.
    assert app.extensions["possync"].connections.opened == 1
