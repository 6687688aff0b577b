"""Fixtures for the dashboard tests: an app on a fresh database, a logged-in client, and
helpers that write sync_state / sync_log rows the way the engine does."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from bench.trials.serving import csrf_from
from flask import Flask
from flask.testing import FlaskClient

from possync.config.settings import Settings
from possync.db.connection import Database
from possync.web import create_app
from tests.conftest import make_settings

PASSWORD = "correct horse battery staple"


@pytest.fixture
def web_settings(db: Database, tmp_path: Path) -> Settings:
    # Lightspeed "configured" so its entities get cards; no worker runs in these tests.
    return make_settings(
        db,
        tmp_path,
        dashboard_password=PASSWORD,
        secret_key="test-secret-key",
        lightspeed_url="http://127.0.0.1:9/api/2.0",
        lightspeed_token="not-used",
    )


@pytest.fixture
def app(web_settings: Settings, db: Database) -> Iterator[Flask]:
    flask_app = create_app(web_settings, db)
    yield flask_app
    flask_app.extensions["possync"].job_queue.close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def log_in(client: FlaskClient, password: str = PASSWORD) -> Any:
    token = csrf_from(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"password": password, "csrf_token": token})


@pytest.fixture
def logged_in(client: FlaskClient) -> FlaskClient:
    response = log_in(client)
    assert response.status_code == 302
    return client


def page_csrf(client: FlaskClient) -> str:
    return csrf_from(client.get("/").get_data(as_text=True))


def put_state(
    db: Database,
    source: str,
    entity: str,
    status: str,
    age: timedelta | None,
    records: int = 0,
    error: str | None = None,
) -> None:
    """A sync_state row whose last success is `age` ago (None: never)."""
    with db.connect() as conn:
        conn.execute(
            """INSERT INTO sync_state (source, entity_type, status, last_sync_time,
                                       last_attempt_time, records_total, error_message)
               VALUES (%s, %s, %s, now() - %s::interval, now(), %s, %s)
               ON CONFLICT (source, entity_type) DO UPDATE SET
                 status = EXCLUDED.status, last_sync_time = EXCLUDED.last_sync_time,
                 records_total = EXCLUDED.records_total, error_message = EXCLUDED.error_message""",
            (source, entity, status, age, records, error),
        )
        conn.commit()


def put_log(
    db: Database,
    source: str,
    entity: str,
    status: str,
    *,
    started: datetime | None = None,
    duration: float = 1.5,
    records: int = 10,
    pages: int = 1,
    error: str | None = None,
) -> str:
    """A sync_log row; `started` ones stay open (finished_at NULL)."""
    run_id = str(uuid4())
    with db.connect() as conn:
        conn.execute(
            """INSERT INTO sync_log (run_id, source, entity_type, action, status, "timestamp",
                                     duration_seconds, records_processed, error_details,
                                     metadata, finished_at)
               VALUES (%s, %s, %s, 'incremental_sync', %s, coalesce(%s, now()), %s, %s, %s,
                       jsonb_build_object('pages', %s::int, 'estimated_total', NULL),
                       CASE WHEN %s = 'started' THEN NULL
                            ELSE coalesce(%s, now()) + make_interval(secs => %s) END)""",
            (
                run_id,
                source,
                entity,
                status,
                started,
                None if status == "started" else duration,
                records,
                error,
                pages,
                status,
                started,
                duration,
            ),
        )
        conn.commit()
    return run_id
