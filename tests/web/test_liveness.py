"""Worker and scheduler liveness from their heartbeats: /healthz, /metrics, the banner, and
the banner in a real browser (screenshot in artifacts/)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from bench.trials.serving import clean_env, serving
from flask import Flask
from flask.testing import FlaskClient
from playwright.sync_api import Browser, expect, sync_playwright

from possync.config.settings import Settings
from possync.db.connection import Database
from possync.jobs.worker import BackgroundWorker
from possync.web import create_app
from tests.web.conftest import PASSWORD, log_in
from tests.web.test_browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS
from tests.web.test_browser import log_in as browser_log_in

BANNER = "No worker is running"


@pytest.fixture
def serve_app(web_settings: Settings, db: Database) -> Iterator[Flask]:
    """The dashboard as `serve` builds it: it runs a worker, so it expects heartbeats."""
    flask_app = create_app(web_settings, db, expect_worker=True)
    yield flask_app
    flask_app.extensions["possync"].job_queue.close()


def beat(db: Database, process: str, role: str, seconds_ago: float) -> None:
    with db.connect() as conn:
        conn.execute(
            """INSERT INTO possync_heartbeats (process, role, last_beat)
               VALUES (%s, %s, now() - make_interval(secs => %s))
               ON CONFLICT (process, role) DO UPDATE SET last_beat = EXCLUDED.last_beat""",
            (process, role, seconds_ago),
        )
        conn.commit()


def metric(text: str, name: str) -> float | None:
    match = re.search(rf"^{re.escape(name)} ([\d.]+)$", text, re.MULTILINE)
    return float(match.group(1)) if match else None


def test_healthz_fails_while_the_expected_worker_is_silent(serve_app: Flask, db: Database) -> None:
    client = serve_app.test_client()
    never = client.get("/healthz")
    assert never.status_code == 503
    assert never.get_json() == {
        "status": "degraded",
        "database": "up",
        "worker": {"alive": 0, "last_heartbeat_age_seconds": None},
        "scheduler": {"alive": 0, "last_heartbeat_age_seconds": None},
        "detail": "no worker and no scheduler alive (no heartbeat for 30 s): "
        "jobs and schedules are not running",
    }
    beat(db, "possync@a:1", "worker", 2)
    beat(db, "possync@a:1", "scheduler", 2)
    beat(db, "possync@b:2", "worker", 45)  # a second worker, gone
    alive = client.get("/healthz")
    assert alive.status_code == 200
    body = alive.get_json()
    assert (body["status"], body["worker"]["alive"], body["scheduler"]["alive"]) == ("ok", 1, 1)
    assert 1.5 <= body["worker"]["last_heartbeat_age_seconds"] < 10
    beat(db, "possync@a:1", "worker", 40)
    beat(db, "possync@a:1", "scheduler", 40)
    stale = client.get("/healthz")
    assert stale.status_code == 503
    body = stale.get_json()
    assert body["status"] == "degraded" and body["worker"]["alive"] == 0
    assert 39 <= body["worker"]["last_heartbeat_age_seconds"] < 50


def test_healthz_of_a_dashboard_without_its_own_worker_reports_but_stays_ok(
    client: FlaskClient, db: Database
) -> None:
    beat(db, "possync@a:1", "worker", 90)
    health = client.get("/healthz")
    assert health.status_code == 200
    body = health.get_json()
    assert body["status"] == "ok" and body["worker"]["alive"] == 0
    assert 89 <= body["worker"]["last_heartbeat_age_seconds"] < 100


def test_metrics_report_worker_and_scheduler_from_heartbeats(
    client: FlaskClient, db: Database
) -> None:
    text = client.get("/metrics").get_data(as_text=True)
    assert metric(text, "possync_worker_up") == 0
    assert metric(text, "possync_scheduler_up") == 0
    assert "possync_heartbeat_age_seconds{" not in text  # never beat: no age to report
    beat(db, "possync@a:1", "worker", 1)
    beat(db, "possync@b:2", "worker", 3)
    beat(db, "possync@b:2", "scheduler", 75)
    text = client.get("/metrics").get_data(as_text=True)
    assert metric(text, "possync_worker_up") == 2
    assert metric(text, "possync_scheduler_up") == 0
    worker_age = metric(text, 'possync_heartbeat_age_seconds{role="worker"}')
    scheduler_age = metric(text, 'possync_heartbeat_age_seconds{role="scheduler"}')
    assert worker_age is not None and 0.5 <= worker_age < 10
    assert scheduler_age is not None and 74 <= scheduler_age < 85
    assert "# TYPE possync_worker_up gauge" in text


def test_every_page_shows_the_banner_while_no_worker_beats(
    logged_in: FlaskClient, db: Database
) -> None:
    for path in ("/", "/history", "/jobs"):
        page = logged_in.get(path).get_data(as_text=True)
        assert f'role="alert">{BANNER} (no worker has ever run against this database)' in page
    beat(db, "possync@a:1", "worker", 3 * 3600)
    page = logged_in.get("/").get_data(as_text=True)
    assert "(the last heartbeat was 3.0 h ago): queued and scheduled syncs will not run." in page
    beat(db, "possync@a:1", "worker", 1)
    for path in ("/", "/history", "/jobs"):
        assert BANNER not in logged_in.get(path).get_data(as_text=True)


def test_the_login_page_and_error_pages_show_no_banner(client: FlaskClient) -> None:
    assert BANNER not in client.get("/login").get_data(as_text=True)
    log_in(client)
    assert BANNER not in client.get("/no-such-page").get_data(as_text=True)


@pytest.mark.browser
def test_the_banner_shows_in_a_browser_until_a_worker_beats(
    db: Database, tmp_path: Path, web_settings: Settings
) -> None:
    env = clean_env(
        database_url=db.url,
        dashboard_password=PASSWORD,
        lightspeed_url="http://127.0.0.1:9/api/2.0",
        lightspeed_token="not-used",
    )
    ARTIFACTS.mkdir(exist_ok=True)
    with (
        serving(env, tmp_path, "--no-worker") as served,
        sync_playwright() as playwright,
    ):
        browser: Browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            browser_log_in(page, served.url)
            banner = page.locator("#worker-banner")
            expect(banner).to_be_visible()
            expect(banner).to_contain_text(BANNER)
            expect(banner).to_have_css("background-color", "rgb(253, 232, 230)")
            page.screenshot(path=str(ARTIFACTS / "dashboard-no-worker.png"), full_page=False)
            worker = BackgroundWorker(web_settings, db, schedules=False)
            worker.start()
            try:
                page.reload()
                expect(page.locator("#worker-banner")).to_have_count(0)
                health = httpx.get(served.url + "healthz", timeout=10).json()
                assert health["worker"]["alive"] == 1
            finally:
                worker.stop()
            page.reload()  # stopped on purpose: its heartbeats are gone at once
            expect(page.locator("#worker-banner")).to_contain_text(BANNER)
        finally:
            browser.close()
