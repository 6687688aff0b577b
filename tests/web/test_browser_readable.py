"""In real headless Chromium, at 1280 and 390 px: a rejected token shows one banner naming the
source and the fix; times read in the shop's zone in one 24-hour format; a child entity's card
counts its own rows; the history chart has a real time axis; history and jobs read on a phone.
Screenshots go to artifacts/."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from bench.trials.serving import Served, clean_env, serving
from playwright.sync_api import Browser, Page, expect

from possync.db.connection import Database
from possync.engine.run import SyncRequest, run_sync
from possync.simulator import RunningSimulator
from tests.conftest import make_settings
from tests.support.simulators import simulator_fixture
from tests.web.test_browser import ARTIFACTS, browser, log_in

__all__ = ["browser"]  # the Chromium fixture, shared with test_browser

pytestmark = pytest.mark.browser
SHOP_ZONE = "America/New_York"


simulator = simulator_fixture(seed=3, square=False)


def _env(db: Database, sim: RunningSimulator, token: str) -> dict[str, str]:
    return clean_env(
        database_url=db.url,
        dashboard_password="correct horse battery staple",
        lightspeed_url=sim.lightspeed_url,
        lightspeed_token=token,
        schedule_incremental="",
        schedule_deep="",
        status_cache_seconds="0",
        timezone=SHOP_ZONE,
    )


def _no_overflow(page: Page, what: str) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{what} is {overflow}px wider than the window"


def test_a_rejected_token_shows_one_banner_with_the_fix(
    browser: Browser, db: Database, simulator: RunningSimulator, tmp_path: Path
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    with serving(_env(db, simulator, "not-the-token"), tmp_path) as served:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        log_in(page, served.url)
        banner = page.locator("[data-failures]")
        expect(banner).to_be_hidden()
        page.get_by_role("button", name="Sync everything").click()
        expect(banner).to_be_visible(timeout=30_000)
        lines = banner.locator("li")
        expect(lines).to_have_count(1)
        expect(lines.first).to_contain_text(
            "Lightspeed: 1 entity failed: the API rejected the token"
        )
        expect(lines.first).to_contain_text("Fix: set a valid POSSYNC_LIGHTSPEED_TOKEN")
        expect(lines.first).to_contain_text("14 other Lightspeed entities are red too.")
        page.screenshot(path=str(ARTIFACTS / "failure-banner.png"), full_page=False)
        phone = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
        log_in(phone, served.url)
        expect(phone.locator("[data-failures] li")).to_contain_text("POSSYNC_LIGHTSPEED_TOKEN")
        _no_overflow(phone, "the overview with the banner")
        phone.screenshot(path=str(ARTIFACTS / "failure-banner-phone.png"), full_page=False)


@pytest.fixture
def synced_dashboard(db: Database, simulator: RunningSimulator, tmp_path: Path) -> Iterator[Served]:
    settings = make_settings(
        db, tmp_path, lightspeed_url=simulator.lightspeed_url, lightspeed_token=simulator.token
    )
    assert run_sync(settings, db, SyncRequest("lightspeed")).ok
    with serving(_env(db, simulator, simulator.token), tmp_path) as served:
        yield served


def test_numbers_and_times_read_the_same_everywhere(
    browser: Browser, synced_dashboard: Served, db: Database
) -> None:
    with db.connect() as conn:
        counts = conn.execute(
            """SELECT (SELECT count(*) FROM lightspeed_sale_line_items),
                      (SELECT count(*) FROM lightspeed_sales)"""
        ).fetchone()
    assert counts is not None and counts[0] != counts[1]
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    log_in(page, synced_dashboard.url)
    # The page's own poll rewrites these: in the shop's zone, 24-hour, one format.
    expect(page.locator("[data-updated]")).to_have_text(
        re.compile(r"^Updated \d\d:\d\d:\d\d\.$"), timeout=10_000
    )
    last = page.locator('[data-key="lightspeed/sales"] [data-field="last_sync"]')
    expect(last).to_have_attribute("title", re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$"))
    items = page.locator('[data-key="lightspeed/sale_line_items"] [data-field="last_run"]')
    expect(items).to_have_text(re.compile(rf"^{counts[0]:,} records in "))
    sales = page.locator('[data-key="lightspeed/sales"] [data-field="last_run"]')
    expect(sales).to_have_text(re.compile(rf"^{counts[1]:,} records in "))
    expect(page.locator('[data-key="lightspeed/outlets"] [data-field="last_run"]')).to_have_text(
        re.compile(r"^\d records? in ")
    )
    page.screenshot(path=str(ARTIFACTS / "readable-overview.png"), full_page=True)
    outlets = page.locator('[data-key="lightspeed/outlets"]')
    outlets.get_by_role("button", name="Sync outlets now").click()
    expect(outlets.locator('[data-field="last_run"]')).to_have_text(
        re.compile(r"^0 records in "), timeout=30_000
    )

    page.goto(synced_dashboard.url + "history")
    ticks = page.locator("svg.chart text.time").all_text_contents()
    assert len(ticks) >= 2 and len(set(ticks)) == len(ticks), ticks
    assert all(re.fullmatch(r"\d\d:\d\d", tick) for tick in ticks), ticks
    expect(page.locator("svg.chart")).to_contain_text(f"({SHOP_ZONE})")
    # Outlets ran twice, every other entity once: one line, and only between outlets' runs.
    lines = page.locator("svg.chart polyline.records-line")
    expect(lines).to_have_count(1)
    expect(lines.first).to_have_attribute("data-series", "lightspeed/outlets")
    page.screenshot(path=str(ARTIFACTS / "readable-history.png"), full_page=True)

    phone = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
    log_in(phone, synced_dashboard.url)
    for path in ("history", "jobs"):
        phone.goto(synced_dashboard.url + path)
        _no_overflow(phone, f"the {path} page")
        first_row = phone.locator("table.stack tbody tr").first
        box = first_row.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, box
        phone.screenshot(path=str(ARTIFACTS / f"readable-{path}-phone.png"), full_page=False)
    phone.goto(synced_dashboard.url + "history")
    started = phone.locator("table.stack tbody tr").first.locator('td[data-label="Started"]')
    expect(started).to_have_text(re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$"))
