"""End to end in real headless Chromium: log in, see the cards, press "Sync now", watch the
progress, see the card turn green. Screenshots (desktop and phone width) go to artifacts/."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from bench.trials.serving import Served, clean_env, serving
from playwright.sync_api import Browser, Page, expect, sync_playwright

from possync.db.connection import Database
from possync.engine.reconcile import Difference, ReconcileReport, record_reconcile
from possync.simulator import FaultConfig, RunningSimulator, SimulatorConfig, running_simulator
from tests.web.conftest import PASSWORD

CHROMIUM = Path(os.environ.get("POSSYNC_TEST_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
RECORDS = re.compile(r"^([\d,]+) records")
WATCH_PROGRESS = """() => {
  const card = document.querySelector('[data-key="lightspeed/products"]');
  const target = card.querySelector('[data-field="progress_text"]');
  window.progressSeen = [];
  new MutationObserver(() => window.progressSeen.push(target.textContent))
    .observe(target, {childList: true, characterData: true, subtree: true});
}"""

pytestmark = pytest.mark.browser


@pytest.fixture
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: install Debian's `chromium` package "
            "(apt-get install chromium) or set POSSYNC_TEST_CHROMIUM"
        )
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def slow_simulator() -> Iterator[RunningSimulator]:
    # Latency and small pages make a products sync last a few seconds, long enough to watch.
    faults = FaultConfig(latency_ms=120)
    with running_simulator(
        SimulatorConfig(seed=3, scale="small", square=False, faults=faults)
    ) as sim:
        yield sim


def _dashboard_env(db: Database, sim: RunningSimulator, **extra: str) -> dict[str, str]:
    return clean_env(
        database_url=db.url,
        dashboard_password=PASSWORD,
        lightspeed_url=sim.lightspeed_url,
        lightspeed_token=sim.token,
        schedule_incremental="",
        schedule_deep="",
        **extra,
    )


@pytest.fixture
def dashboard(db: Database, slow_simulator: RunningSimulator, tmp_path: Path) -> Iterator[Served]:
    with serving(_dashboard_env(db, slow_simulator, lightspeed_page_size="5"), tmp_path) as served:
        yield served


def log_in(page: Page, url: str) -> None:
    page.goto(url)
    expect(page).to_have_title("Log in · possync")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_title("Overview · possync")


def test_sync_now_turns_the_card_green(browser: Browser, dashboard: Served) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    log_in(page, dashboard.url)
    cards = page.locator("[data-card]")
    assert cards.count() >= 15
    products = page.locator('[data-key="lightspeed/products"]')
    expect(products).to_have_class("card health-red")
    expect(products.locator('[data-field="status"]')).to_have_text("Never synced")
    expect(page.locator('[data-key="lightspeed/sale_line_items"] h3')).to_have_text(
        "Sale line items"
    )

    # Every text the progress line shows, as the page's own polling updates it.
    page.evaluate(WATCH_PROGRESS)
    products.get_by_role("button", name="Sync products now").click()
    # Live progress: the card shows the committed records and pages while the run goes.
    progress = products.locator('[data-field="progress_text"]')
    expect(progress).to_have_text(re.compile(r"^[1-9][\d,]* records? · page \d+$"), timeout=30_000)
    expect(products.locator('[data-field="status"]')).to_have_text("Running…")
    page.screenshot(path=str(ARTIFACTS / "dashboard-syncing.png"), full_page=True)
    started = time.monotonic()

    expect(products).to_have_class("card health-green", timeout=60_000)
    expect(products.locator('[data-field="status"]')).to_have_text("Synced")
    expect(products.locator('[data-field="last_run"]')).to_have_text(
        re.compile(r"^[1-9][\d,]* records in [\d.]+ s$")
    )
    expect(products.locator('[data-field="progress"]')).to_be_hidden()
    assert products.locator('[data-field="records"]').inner_text() != "0"
    assert time.monotonic() - started < 60
    seen = page.evaluate("window.progressSeen")
    assert seen[0].startswith("Queued a sync of Lightspeed products (job "), seen
    counts = [int(m.group(1).replace(",", "")) for m in map(RECORDS.match, seen) if m]
    assert counts and counts == sorted(counts), seen  # records only grow while it runs
    expect(page.locator('[data-count="green"]')).to_have_text("1")
    page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)

    page.goto(dashboard.url + "history")
    expect(page.locator("svg.chart rect.bar")).to_have_count(1)
    page.screenshot(path=str(ARTIFACTS / "history.png"), full_page=True)
    page.goto(dashboard.url + "jobs")
    finished = page.locator("tr.job-succeeded", has_text="Lightspeed Products")
    expect(finished).to_have_count(1)
    page.screenshot(path=str(ARTIFACTS / "jobs.png"), full_page=True)

    phone = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
    log_in(phone, dashboard.url)
    expect(phone.locator('[data-key="lightspeed/products"]')).to_have_class("card health-green")
    overflow = phone.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the overview is {overflow}px wider than a phone"
    phone.screenshot(path=str(ARTIFACTS / "dashboard-phone.png"), full_page=False)
    phone.goto(dashboard.url + "history")
    overflow = phone.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the history page is {overflow}px wider than a phone"


@pytest.fixture
def uncached_dashboard(
    db: Database, slow_simulator: RunningSimulator, tmp_path: Path
) -> Iterator[Served]:
    # Every poll reads the database: a new check shows within one poll, not a cache's 30 s.
    with serving(_dashboard_env(db, slow_simulator, status_cache_seconds="0"), tmp_path) as served:
        yield served


def test_the_money_check_shows_a_new_reconciliation_without_a_reload(
    browser: Browser, uncached_dashboard: Served, db: Database
) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    log_in(page, uncached_dashboard.url)
    verdict = page.locator('[data-reconcile="lightspeed"] [data-field="verdict"]')
    expect(verdict).to_have_text("not checked")
    report = ReconcileReport("lightspeed", date(2026, 10, 25), date(2026, 10, 31), days_checked=14)
    report.differences = [
        Difference("outlet-1", "2026-10-30", "total", "1200.50", "1199.50"),
        Difference("outlet-1", "2026-10-31", "count", "12", "11"),
    ]
    record_reconcile(db, report)
    # The page's own 2-s poll brings the new verdict and its differences table.
    expect(verdict).to_have_text("2 differences", timeout=15_000)
    rows = page.locator('table[data-differences="lightspeed"] tbody tr')
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("1,200.50")  # money with thousands separators
