"""Login, sessions, CSRF and throttling: every route but login, health, metrics and static
needs a session."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask.testing import FlaskClient
from pydantic import SecretStr

from possync.config.settings import Settings
from possync.db.connection import Database
from possync.errors import ConfigError
from possync.web import create_app
from tests.conftest import make_settings
from tests.web.conftest import PASSWORD, csrf_from, log_in, page_csrf

PAGES = ["/", "/history", "/jobs", "/jobs?tab=failed", "/history?status=failed"]


def test_every_page_needs_a_session(client: FlaskClient) -> None:
    for path in PAGES:
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"].startswith("/login?next=")
    api = client.get("/api/status")
    assert api.status_code == 401
    assert api.get_json()["error"] == "log in first"
    assert client.post("/jobs/sync", data={"source": "lightspeed"}).status_code == 400


def test_open_routes_need_no_session(client: FlaskClient) -> None:
    assert client.get("/login").status_code == 200
    health = client.get("/healthz").get_json()
    assert (health["status"], health["database"], health["worker"]["alive"]) == ("ok", "up", 0)
    assert client.get("/metrics").status_code == 200
    static = client.get("/static/possync.css")
    assert static.status_code == 200 and b".card" in static.data
    static.close()
    assert client.get("/static/possync.js").status_code == 200


def test_login_sets_a_protected_session_cookie(client: FlaskClient) -> None:
    response = log_in(client)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    cookie = response.headers["Set-Cookie"]
    assert "possync_session=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    for path in PAGES:
        assert client.get(path).status_code == 200, path
    assert client.get("/api/status").status_code == 200


def test_wrong_password_is_refused(client: FlaskClient) -> None:
    response = log_in(client, "wrong")
    assert response.status_code == 401
    assert "Wrong password." in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_login_without_csrf_token_is_refused(client: FlaskClient) -> None:
    client.get("/login")
    response = client.post("/login", data={"password": PASSWORD})
    assert response.status_code == 400
    assert "security token" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_post_without_csrf_token_is_refused(logged_in: FlaskClient) -> None:
    response = logged_in.post("/jobs/sync", data={"source": "lightspeed", "entity": "products"})
    assert response.status_code == 400
    forged = logged_in.post(
        "/jobs/sync",
        data={"source": "lightspeed", "entity": "products", "csrf_token": "forged"},
    )
    assert forged.status_code == 400
    header = logged_in.post(
        "/jobs/sync",
        data={"source": "lightspeed", "entity": "products"},
        headers={"X-CSRF-Token": page_csrf(logged_in), "Accept": "application/json"},
    )
    assert header.status_code == 200


def test_next_only_redirects_within_the_site(client: FlaskClient) -> None:
    token = csrf_from(client.get("/login").get_data(as_text=True))
    for target, expected in (
        ("/history?source=lightspeed", "/history?source=lightspeed"),
        ("//evil.example/", "/"),
        ("https://evil.example/", "/"),
    ):
        client.post("/logout", data={"csrf_token": token})
        token = csrf_from(client.get("/login").get_data(as_text=True))
        response = client.post(
            "/login", data={"password": PASSWORD, "csrf_token": token, "next": target}
        )
        assert response.headers["Location"] == expected
        token = page_csrf(client)


def test_logout_ends_the_session(logged_in: FlaskClient) -> None:
    response = logged_in.post("/logout", data={"csrf_token": page_csrf(logged_in)})
    assert response.status_code == 302
    assert logged_in.get("/").status_code == 302


def test_changing_the_password_logs_everyone_out(
    db: Database, tmp_path: Path, web_settings: Settings
) -> None:
    first = create_app(web_settings, db).test_client()
    assert log_in(first).status_code == 302
    cookie = first.get_cookie("possync_session")
    assert cookie is not None
    changed = web_settings.model_copy(update={"dashboard_password": SecretStr("new password")})
    second = create_app(changed, db).test_client()
    second.set_cookie("possync_session", cookie.value)
    assert second.get("/").status_code == 302


def test_no_password_no_dashboard(db: Database, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="POSSYNC_DASHBOARD_PASSWORD"):
        create_app(make_settings(db, tmp_path), db)


def test_pages_carry_security_headers(logged_in: FlaskClient) -> None:
    response = logged_in.get("/")
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "no-store"
