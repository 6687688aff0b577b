"""Several shops in real headless Chromium, through `possync serve` (dashboard and worker):
the shops page, then one shop's overview where "Sync everything" imports that shop alone and
its cards turn green live; at laptop and phone width. Screenshots go to artifacts/shops-*.png."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from bench.trials.serving import Served, clean_env, serving
from playwright.sync_api import Browser, Page, expect

from possync.db.connection import Database
from possync.simulator import RunningSimulator
from tests.support.cli import RunPossync
from tests.support.environment import environment_for
from tests.web.conftest import PASSWORD
from tests.web.shop_setup import KEY, add_shop, environment_shop_variables, stores
from tests.web.test_browser import ARTIFACTS, browser

__all__ = ["browser", "stores"]  # fixtures

pytestmark = pytest.mark.browser


@pytest.fixture
def shops_dashboard(
    db: Database, tmp_path: Path, stores: RunningSimulator, possync_cli: RunPossync
) -> Iterator[Served]:
    """default and north synced; south-side added but never synced."""
    env = environment_for(
        db, tmp_path, POSSYNC_ENCRYPTION_KEY=KEY, **environment_shop_variables(stores)
    )
    for name in ("north", "south-side"):
        add_shop(possync_cli, env, tmp_path, stores, name)
    for name in ("default", "north"):
        synced = possync_cli("sync", "--shop", name, env=env)
        assert synced.returncode == 0, synced.explain()
    served_env = clean_env(
        database_url=db.url,
        dashboard_password=PASSWORD,
        encryption_key=KEY,
        lightspeed_url=stores.lightspeed_url,
        lightspeed_token=stores.token,
        square_url=stores.square_url,
        square_token=stores.token,
        schedule_incremental="",
        schedule_deep="",
        status_cache_seconds="0",
    )
    with serving(served_env, tmp_path) as served:
        yield served


def log_in(page: Page, url: str) -> None:
    page.goto(url)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_title("Shops · possync")


def no_sideways_scroll(page: Page, what: str) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{what} is {overflow}px wider than a phone"


def test_the_shops_page_and_a_shops_overview_at_laptop_and_phone_width(
    browser: Browser, shops_dashboard: Served
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    url = shops_dashboard.url
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    log_in(page, url)
    rows = page.locator("tr.shop-row")
    expect(rows).to_have_count(3)
    expect(page.locator('tr[data-shop="north"]')).to_have_class(re.compile(r"worst-green"))
    south = page.locator('tr[data-shop="south-side"]')
    expect(south).to_have_class(re.compile(r"worst-red"))
    expect(south.locator('[data-field="last_success"]')).to_have_text("never")
    expect(page.locator('[data-worst="red"]')).to_have_text("1")
    page.screenshot(path=str(ARTIFACTS / "shops.png"), full_page=True)

    south.get_by_role("link", name="south-side").click()
    expect(page).to_have_title("Overview · south-side · possync")
    assert page.url == url + "shops/south-side/"
    expect(page.locator("[data-current-shop]")).to_have_text("south-side")
    cards = page.locator("[data-card]")
    total = cards.count()
    assert total >= 20  # both sources' entities
    expect(page.locator('[data-count="red"]')).to_have_text(str(total))
    page.get_by_role("button", name="Sync everything").click()
    # The page's own polling of /shops/south-side/api/status turns every card green.
    expect(page.locator('[data-count="green"]')).to_have_text(str(total), timeout=120_000)
    expect(page.locator('[data-key="lightspeed/sales"] [data-field="status"]')).to_have_text(
        "Synced"
    )
    page.screenshot(path=str(ARTIFACTS / "shops-overview.png"), full_page=True)

    page.get_by_role("link", name="Jobs").click()
    assert page.url == url + "shops/south-side/jobs"
    expect(page.locator("tr.job-succeeded")).to_have_count(2)  # Lightspeed and Square
    page.get_by_role("link", name="Shops").click()
    expect(page.locator('tr[data-shop="south-side"]')).to_have_class(re.compile(r"worst-green"))

    phone = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
    log_in(phone, url)
    expect(phone.locator("tr.shop-row")).to_have_count(3)
    no_sideways_scroll(phone, "the shops page")
    phone.screenshot(path=str(ARTIFACTS / "shops-phone.png"), full_page=True)
    phone.goto(url + "shops/north/")
    expect(phone.locator("[data-current-shop]")).to_have_text("north")
    no_sideways_scroll(phone, "a shop's overview")
    phone.screenshot(path=str(ARTIFACTS / "shops-overview-phone.png"), full_page=False)
