"""In real headless Chromium against `possync serve`: "Add a shop" → "Connect Lightspeed" →
the simulator's consent page (store 2) → back on the dashboard, the first import queued; the
same for Square (store 3); the serve process's worker imports both, equal to their stores."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from bench.trials.serving import Served, clean_env, serving
from bench.trials.square_truth import assert_square_matches_truth
from bench.trials.truth import assert_lightspeed_matches_truth
from playwright.sync_api import Browser, Page, expect

from possync.db.connection import Database
from possync.simulator import RunningSimulator
from tests.oauth.conftest import oauth_variables
from tests.web.conftest import PASSWORD
from tests.web.test_browser import browser as browser  # the Chromium fixture

pytestmark = pytest.mark.browser


@pytest.fixture
def dashboard(db: Database, stores: RunningSimulator, tmp_path: Path) -> Iterator[Served]:
    variables = {k.removeprefix("POSSYNC_").lower(): v for k, v in oauth_variables(stores).items()}
    env = clean_env(
        database_url=db.url,
        dashboard_password=PASSWORD,
        schedule_incremental="",
        schedule_deep="",
        **variables,
    )
    with serving(env, tmp_path) as served:
        yield served


def connect(page: Page, dashboard: Served, vendor: str, name: str, store: int) -> None:
    page.goto(dashboard.url + "/shops/connect")
    expect(page).to_have_title("Add a shop · possync")
    page.fill("input[name=name]", name)
    page.click(f"button[data-vendor={vendor}]")
    expect(page.locator("h1")).to_contain_text("connect an app")  # the vendor's consent page
    page.fill("#store", str(store))
    page.click("button[value=allow]")
    expect(page.locator(".flash.info")).to_contain_text(f"Shop {name} ")
    expect(page.locator(".flash.info")).to_contain_text("first")
    assert f"/shops/{name}/" in page.url


def wait_for_imports(db: Database, shops: set[str], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while True:
        with db.connect() as conn:
            rows = conn.execute(
                """SELECT args->>'shop', status FROM procrastinate_jobs
                   WHERE task_name = 'possync.sync'"""
            ).fetchall()
        done = {shop for shop, status in rows if status == "succeeded"}
        assert not [r for r in rows if r[1] == "failed"], rows
        if done >= shops:
            return
        assert time.monotonic() < deadline, rows
        time.sleep(0.5)


def test_a_lightspeed_shop_and_a_square_shop_connect_in_the_browser_and_import(
    browser: Browser, dashboard: Served, stores: RunningSimulator, db: Database
) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(dashboard.url)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    connect(page, dashboard, "lightspeed", "north", store=2)
    connect(page, dashboard, "square", "south", store=3)
    wait_for_imports(db, {"north", "south"})

    page.goto(dashboard.url + "/shops/north/connections")
    row = page.locator("tr[data-source=lightspeed]")
    expect(row).to_have_attribute("data-status", "ok")
    expect(row.locator("[data-field=refreshed]")).not_to_have_text("—")
    expect(page.locator("#connection-banner")).to_have_count(0)

    for schema, store, source in (("shop_north", 2, "lightspeed"), ("shop_south", 3, "square")):
        truth = httpx.get(stores.base_url + "/_simulator/truth", params={"store": store}).json()
        with Database(db.url, schema).connect() as conn:
            if source == "lightspeed":
                assert_lightspeed_matches_truth(conn, truth["lightspeed"])
            else:
                assert_square_matches_truth(conn, truth["square"])
