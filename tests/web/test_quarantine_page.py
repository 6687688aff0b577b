"""The quarantine in the dashboard, in real headless Chromium: the count on the entity's
card, the list (entity, id, reason, first and last seen), the payload on demand; at desktop
and phone widths. The records are quarantined by a real sync against a stub API."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from bench.trials.serving import Served, clean_env, serving
from bench.trials.stub_pos import StubPos, running_stub_pos
from playwright.sync_api import Browser, expect

from possync.db.connection import Database
from possync.engine.run import SyncRequest, run_sync
from possync.sources.lightspeed import LightspeedSource
from tests.conftest import make_settings
from tests.web.conftest import PASSWORD
from tests.web.test_browser import ARTIFACTS, browser, log_in

__all__ = ["browser"]  # the fixture, shared with the dashboard's other browser tests

pytestmark = pytest.mark.browser


@pytest.fixture
def quarantined_dashboard(db: Database, tmp_path: Path) -> Iterator[tuple[Served, StubPos]]:
    with running_stub_pos() as stub:
        records = [
            {"id": "c1", "first_name": "Ann", "balance": "10.00", "version": 1},
            {"id": "c2", "first_name": "Bo", "balance": "not money", "version": 2},
            {"id": "c3", "first_name": "Cy", "balance": "1.00", "version": 3},
            {"id": "c4", "first_name": "Di", "balance": "2.00", "version": 2**63},
        ]
        stub.answer("/customers", 0, orjson.dumps({"data": records}))
        settings = make_settings(db, tmp_path, lightspeed_url=stub.url, lightspeed_token="t" * 20)
        source = LightspeedSource(settings)
        try:
            report = run_sync(
                settings, db, SyncRequest("lightspeed", ("customers",)), source=source
            )
        finally:
            source.close()
        assert report.ok and report.results[0].quarantined == 2
        env = clean_env(
            database_url=db.url,
            dashboard_password=PASSWORD,
            lightspeed_url=stub.url,
            lightspeed_token="t" * 20,
            schedule_incremental="",
            schedule_deep="",
        )
        with serving(env, tmp_path) as served:
            yield served, stub


def test_quarantine_count_list_and_payload(
    browser: Browser, quarantined_dashboard: tuple[Served, StubPos]
) -> None:
    served, _stub = quarantined_dashboard
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    log_in(page, served.url)
    card = page.locator('[data-key="lightspeed/customers"]')
    expect(card.locator("[data-quarantined]")).to_have_text("2 in quarantine")
    expect(page.locator('[data-key="lightspeed/users"] [data-quarantined]')).to_have_count(0)
    card.screenshot(path=str(ARTIFACTS / "quarantine-card.png"))

    card.get_by_role("link", name="2 in quarantine").click()
    expect(page).to_have_title("Quarantine · possync")
    rows = page.locator("[data-quarantine] tbody tr")
    expect(rows).to_have_count(2)
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Quarantine"))
    bad_money = rows.filter(has_text="c2")
    expect(bad_money).to_contain_text("Customers")
    expect(bad_money).to_contain_text("balance: 'not money' is not a valid numeric")
    expect(rows.filter(has_text="c4")).to_contain_text(
        "version: 9223372036854775808 is out of range for its BIGINT column"
    )
    page.screenshot(path=str(ARTIFACTS / "quarantine.png"), full_page=True)

    bad_money.get_by_role("link", name="View").click()
    expect(page).to_have_title("Quarantined record · possync")
    expect(page.locator("[data-reason]")).to_have_text(
        "balance: 'not money' is not a valid numeric"
    )
    payload = orjson.loads(page.locator("[data-payload]").inner_text())
    assert payload == {"id": "c2", "first_name": "Bo", "balance": "not money", "version": 2}
    page.screenshot(path=str(ARTIFACTS / "quarantine-record.png"), full_page=True)

    phone = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
    log_in(phone, served.url)
    for path in ("quarantine", "quarantine/lightspeed/customers/c4"):
        phone.goto(served.url + path)
        overflow = phone.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"/{path} is {overflow}px wider than a phone"
    phone.goto(served.url + "quarantine")
    phone.screenshot(path=str(ARTIFACTS / "quarantine-phone.png"), full_page=True)


def test_the_quarantine_page_is_behind_the_login(
    browser: Browser, quarantined_dashboard: tuple[Served, StubPos]
) -> None:
    served, _stub = quarantined_dashboard
    page = browser.new_page()
    page.goto(served.url + "quarantine/lightspeed/customers/c2")
    expect(page).to_have_title("Log in · possync")
    assert "not money" not in page.content()
