"""In real headless Chromium, at desktop and phone width: logging out ends the session for a
copy of the cookie too, and a wrong password slows the next try by seconds, not minutes.
Screenshots go to artifacts/."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from bench.trials.serving import Served, clean_env, serving
from playwright.sync_api import Browser, Page, expect

from possync.db.connection import Database
from tests.web.conftest import PASSWORD
from tests.web.test_browser import ARTIFACTS, browser, log_in

__all__ = ["browser"]  # the fixture, shared with test_browser

pytestmark = pytest.mark.browser

WIDTHS = {"desktop": 1280, "phone": 390}


@pytest.fixture
def dashboard(db: Database, tmp_path: Path) -> Iterator[Served]:
    env = clean_env(
        database_url=db.url,
        dashboard_password=PASSWORD,
        login_max_delay_seconds="2",
        schedule_incremental="",
        schedule_deep="",
    )
    with serving(env, tmp_path, "--no-worker") as served:
        yield served


def _page(browser: Browser, width: str) -> Page:
    context = browser.new_context(viewport={"width": WIDTHS[width], "height": 844})
    return context.new_page()


@pytest.mark.parametrize("width", list(WIDTHS))
def test_logout_ends_the_session_for_a_copied_cookie(
    browser: Browser, dashboard: Served, width: str
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    owner = _page(browser, width)
    log_in(owner, dashboard.url)
    copy = _page(browser, width)
    cookies = owner.context.cookies()
    copy.context.add_cookies(cookies)
    copy.goto(dashboard.url)
    expect(copy).to_have_title("Overview · possync")

    # The overview's 2-second poll sees the logout too and sends its own tab to the login
    # page, which would abort a navigation racing it: check the cookie from a new tab.
    copy.close()
    copy = _page(browser, width)
    copy.context.add_cookies(cookies)
    owner.get_by_role("button", name="Log out").click()
    expect(owner).to_have_title("Log in · possync")
    copy.goto(dashboard.url + "history")
    expect(copy).to_have_title("Log in · possync")
    expect(copy.get_by_role("button", name="Log out")).to_have_count(0)
    api = copy.request.get(dashboard.url + "api/status")
    assert api.status == 401 and api.json()["error"] == "log in first"
    copy.screenshot(path=str(ARTIFACTS / f"logged-out-copy-{width}.png"), full_page=True)


@pytest.mark.parametrize("width", list(WIDTHS))
def test_a_wrong_password_slows_the_next_try_by_seconds(
    browser: Browser, dashboard: Served, width: str
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page = _page(browser, width)
    page.goto(dashboard.url)
    for _ in range(2):  # the first is free (a typo); the second starts the wait
        page.fill("#password", "not the password")
        page.click("button[type=submit]")
        expect(page.get_by_role("alert")).to_have_text("Wrong password.")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")  # within a second of the second failure
    expect(page.get_by_role("alert")).to_have_text(
        "Too many failed attempts. Try again in 1 second."
    )
    alert_box = page.get_by_role("alert").bounding_box()
    assert alert_box is not None and alert_box["width"] <= WIDTHS[width]
    page.screenshot(path=str(ARTIFACTS / f"login-throttled-{width}.png"), full_page=True)
    time.sleep(1.2)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_title("Overview · possync")
