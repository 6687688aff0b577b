"""/metrics, /healthz, and what every page answers when the database is out of reach."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from flask.testing import FlaskClient
from pydantic import SecretStr

from possync.config.settings import Settings
from possync.db.connection import Database
from possync.web import create_app
from tests.conftest import make_settings
from tests.web.conftest import PASSWORD, log_in, put_log, put_state

UNREACHABLE = "postgresql://u:pw@127.0.0.1:1/x"


def test_metrics_in_prometheus_format(client: FlaskClient, db: Database) -> None:
    put_state(db, "lightspeed", "customers", "success", timedelta(minutes=10), records=321)
    put_state(db, "lightspeed", "sales", "failed", timedelta(hours=1), records=5)
    put_log(db, "lightspeed", "customers", "completed", duration=2.25, records=321)
    put_log(db, "lightspeed", "customers", "completed", duration=1.0, records=1)
    put_log(db, "lightspeed", "sales", "failed", duration=0.5, records=0)
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    lines = set(response.get_data(as_text=True).splitlines())
    assert "possync_up 1" in lines
    assert "# TYPE possync_sync_runs_total counter" in lines
    assert 'possync_entity_health{source="lightspeed",entity="customers"} 0' in lines
    assert 'possync_entity_health{source="lightspeed",entity="sales"} 2' in lines
    assert 'possync_entity_health{source="lightspeed",entity="outlets"} 2' in lines
    assert 'possync_entity_records{source="lightspeed",entity="customers"} 321' in lines
    assert 'possync_entity_failed{source="lightspeed",entity="sales"} 1' in lines
    assert (
        'possync_sync_runs_total{source="lightspeed",entity="customers",status="completed"} 2'
        in lines
    )
    assert 'possync_sync_runs_total{source="lightspeed",entity="sales",status="failed"} 1' in lines
    assert 'possync_sync_last_duration_seconds{source="lightspeed",entity="customers"} 1.0' in lines


def test_metrics_token_guards_the_endpoint(db: Database, web_settings: Settings) -> None:
    settings = web_settings.model_copy(update={"metrics_token": SecretStr("scrape-me")})
    client = create_app(settings, db).test_client()
    assert client.get("/metrics").status_code == 401
    wrong = client.get("/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and "scrape-me" not in wrong.get_data(as_text=True)
    right = client.get("/metrics", headers={"Authorization": "Bearer scrape-me"})
    assert right.status_code == 200 and "possync_up 1" in right.get_data(as_text=True)


def _signed_cookie(db: Database, settings: Settings) -> str:
    """A session cookie from logging in while the database answered."""
    client = create_app(settings, db).test_client()
    assert log_in(client).status_code == 302
    cookie = client.get_cookie("possync_session")
    assert cookie is not None
    return cookie.value


def test_unreachable_database_answers_503_everywhere(db: Database, tmp_path: Path) -> None:
    unreachable = Database(UNREACHABLE, "public")
    settings = make_settings(
        unreachable,
        tmp_path,
        dashboard_password=PASSWORD,
        secret_key="outage-test-secret",
        lightspeed_url="http://127.0.0.1:9",
        lightspeed_token="t",
    )
    app = create_app(settings, unreachable)
    anonymous = app.test_client()
    health = anonymous.get("/healthz")
    # Anonymous callers learn up or down, never where the database is.
    assert health.status_code == 503 and health.get_json() == {"status": "down"}
    assert anonymous.get("/").status_code == 302  # to the login page
    api = anonymous.get("/api/status")
    assert api.status_code == 401 and "127.0.0.1" not in api.get_data(as_text=True)
    failed_login = log_in(anonymous)  # logging in needs the database: a 503, no details
    assert failed_login.status_code == 503
    assert "127.0.0.1" not in failed_login.get_data(as_text=True)
    assert "Log in to see why" in failed_login.get_data(as_text=True)
    # Someone who logged in (before the outage) sees the reason.
    client = app.test_client()
    client.set_cookie("possync_session", _signed_cookie(db, settings))
    for path in ("/", "/history", "/jobs", "/history?status=failed", "/jobs?tab=failed"):
        response = client.get(path)
        body = response.get_data(as_text=True)
        assert response.status_code == 503, path
        assert response.headers["Retry-After"] == "10"
        assert "The database is unavailable" in body
        assert "cannot connect to PostgreSQL at 127.0.0.1:1/x" in body
        assert "Retry now" in body
        assert "Traceback" not in body and "pw@" not in body and ":pw" not in body
    for path in ("/api/status", "/healthz"):
        response = client.get(path)
        assert response.status_code == 503, path
        assert response.get_json()["error"] == "database unavailable"
        assert "pw" not in response.get_json()["detail"].replace("PostgreSQL", "")
    metrics = client.get("/metrics")
    assert metrics.status_code == 503 and metrics.get_data(as_text=True) == "possync_up 0\n"
    posted = client.post(
        "/jobs/sync",
        data={"source": "lightspeed", "entity": "products", "csrf_token": _token(client)},
        headers={"Accept": "application/json"},
    )
    assert posted.status_code == 503
    assert "Traceback" not in posted.get_data(as_text=True)


def _token(client: FlaskClient) -> str:
    with client.session_transaction() as session:
        token = session["csrf"]
    assert isinstance(token, str)
    return token


def test_missing_tables_say_run_migrate(db: Database, empty_db: Database, tmp_path: Path) -> None:
    settings = make_settings(
        empty_db, tmp_path, dashboard_password=PASSWORD, secret_key="outage-test-secret"
    )
    app = create_app(settings, empty_db)
    assert app.test_client().get("/healthz").get_json() == {"status": "down"}
    client = app.test_client()
    client.set_cookie("possync_session", _signed_cookie(db, settings))
    health = client.get("/healthz")
    assert health.status_code == 503
    assert "possync migrate" in health.get_json()["detail"]
    page = client.get("/")
    assert page.status_code == 503 and "possync migrate" in page.get_data(as_text=True)
