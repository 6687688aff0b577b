"""A finance lead in real headless Chromium, at laptop (1280 px) and phone (390 px) width:
October's sales against September's, the top products and what to reorder. Figures on the page
equal the simulator's truth. Screenshots go to artifacts/analytics-*.png."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from decimal import Decimal

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, expect, sync_playwright
from werkzeug.serving import make_server

from possync.simulator import RunningSimulator
from tests.analytics.conftest import lightspeed_state
from tests.analytics.truth import (
    counted_sales,
    local_time,
    product_truth,
    square_team_member_truth,
)
from tests.web.conftest import PASSWORD
from tests.web.test_browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.browser
OCTOBER = "?source=lightspeed&from=2026-10-01&to=2026-10-31"


@pytest.fixture
def chromium() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: install it or set POSSYNC_TEST_CHROMIUM")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def served(analytics_app: Flask) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, analytics_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()
    thread.join()


def _log_in(page: Page, url: str) -> None:
    page.goto(url + "login")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_title("Overview · possync")


def _month_net(simulator: RunningSimulator, month: str) -> Decimal:
    state = lightspeed_state(simulator)
    cents = sum(
        s.total_price_cents
        for s in counted_sales(state)
        if local_time(state, s).date().isoformat().startswith(month)
    )
    return Decimal(cents) / 100


def _no_overflow(page: Page, what: str) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the {what} page is {overflow}px wider than the screen"


@pytest.mark.parametrize("width", [1280, 390])
def test_finance_lead_sees_the_month_top_products_and_reorders(
    chromium: Browser,
    served: str,
    simulator: RunningSimulator,
    width: int,
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page = chromium.new_page(viewport={"width": width, "height": 900}, is_mobile=width < 500)
    _log_in(page, served)
    page.get_by_role("link", name="Sales", exact=True).click()
    expect(page).to_have_title("Sales · possync")
    page.goto(served + "sales" + OCTOBER)
    net = page.locator(".figure", has_text="Net sales").first
    october, september = _month_net(simulator, "2026-10"), _month_net(simulator, "2026-09")
    expect(net.locator(".value")).to_have_text(f"{october:,.2f}")
    expect(net.locator(".previous")).to_have_text(f"was {september:,.2f}")
    expect(page.locator(".muted", has_text="against 2026-09-01 – 2026-09-30")).to_be_visible()
    expect(page.locator("svg.sales-chart rect.bar")).to_have_count(31)
    expect(page.locator("svg.sales-chart polyline.previous-line")).to_have_count(1)
    _no_overflow(page, "sales")
    page.screenshot(path=str(ARTIFACTS / f"analytics-sales-{width}.png"), full_page=width > 500)

    page.get_by_role("link", name="Products", exact=True).click()
    expect(page).to_have_title("Products · possync")
    page.goto(served + "products" + OCTOBER)
    state = lightspeed_state(simulator)
    best = max(product_truth_for_october(simulator).items(), key=lambda item: item[1]["net_sales"])
    best_name = state.records["products"][best[0]]["name"]
    first_row = page.locator('[data-table="top"] tbody tr').first
    expect(first_row.locator("td").first).to_have_text(best_name)
    _no_overflow(page, "products")
    page.screenshot(path=str(ARTIFACTS / f"analytics-products-{width}.png"), full_page=width > 500)

    page.goto(served + "stock" + OCTOBER)
    expect(page).to_have_title("Stock · possync")
    reorder = page.locator('[data-table="reorder"] tbody tr')
    assert reorder.count() > 0
    expect(page.locator('[data-table="reorder"] a.csv')).to_have_attribute(
        "href", "/analytics/stock/reorder.csv?source=lightspeed&from=2026-10-01&to=2026-10-31"
    )
    _no_overflow(page, "stock")
    page.screenshot(path=str(ARTIFACTS / f"analytics-stock-{width}.png"), full_page=width > 500)


def product_truth_for_october(simulator: RunningSimulator) -> dict[str, dict[str, Decimal]]:
    state = lightspeed_state(simulator)
    october = [
        s for s in counted_sales(state) if local_time(state, s).date().isoformat() >= "2026-10-01"
    ]
    october = [s for s in october if local_time(state, s).date().isoformat() <= "2026-10-31"]
    return product_truth(state, october)


@pytest.fixture
def served_square(square_app: Flask) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, square_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()
    thread.join()


def test_square_sales_by_team_member_on_a_phone(
    chromium: Browser, served_square: str, square_sim: RunningSimulator
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    expected = square_team_member_truth(square_sim)
    best = max(expected.items(), key=lambda item: item[1][1])
    page = chromium.new_page(viewport={"width": 390, "height": 900}, is_mobile=True)
    _log_in(page, served_square)
    # The whole of the simulated store's trading (it ends on 1 November 2026).
    page.goto(served_square + "sales?source=square&from=2026-01-01&to=2026-11-30")
    expect(page).to_have_title("Sales · possync")
    members = page.locator('[data-table="user"]')
    expect(members.locator("h2")).to_have_text("By user (team member)")
    first_row = members.locator("tbody tr").first
    expect(first_row.locator("td").first).to_have_text(best[0])
    count, cents = best[1]
    expect(first_row.locator("td").nth(1)).to_have_text(f"{count:,}")
    expect(first_row.locator("td").nth(2)).to_have_text(f"{Decimal(cents) / 100:,.2f}")
    _no_overflow(page, "Square sales")
    members.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "analytics-square-team-members-390.png"))
