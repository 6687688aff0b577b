"""Alerts of many shops: each shop's alerts name it, link to its page and go to its own URLs
and the global ones, never to another shop's; `possync alerts check --all-shops` checks each."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from possync.db.connection import Database
from possync.db.state import RunCounters
from possync.engine.run import EntityResult
from possync.notify import (
    ReconciliationMismatch,
    after_sync,
    check_health,
    incidents,
    report_reconciliation,
)
from possync.shops.registry import load_shops
from possync.shops.resolve import shop_settings
from possync.shops.secrets import TokenCipher
from tests.conftest import make_settings
from tests.support.cli import RunPossync
from tests.support.environment import environment_for

from .conftest import (
    DASHBOARD_URL,
    SMTP_PASSWORD,
    SmtpInbox,
    free_port,
    mailto_url,
    report_of,
    start_smtp,
)

KEY = Fernet.generate_key().decode()
NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def inboxes() -> Iterator[dict[str, SmtpInbox]]:
    """A loopback SMTP server for the global URL and one for each shop's own."""
    started = {}
    for name in ("global", "north", "south"):
        inbox = SmtpInbox(port=free_port())
        started[name] = (inbox, start_smtp(inbox))
    yield {name: inbox for name, (inbox, _) in started.items()}
    for _, controller in started.values():
        controller.stop()


@pytest.fixture
def shops_env(
    db: Database, tmp_path: Path, possync_cli: RunPossync, inboxes: dict[str, SmtpInbox]
) -> dict[str, str]:
    """Shops north and south, each with its own alert URL; a global URL for every shop."""
    env = environment_for(
        db,
        tmp_path,
        POSSYNC_ENCRYPTION_KEY=KEY,
        POSSYNC_NOTIFY_URLS=mailto_url(inboxes["global"].port),
        POSSYNC_DASHBOARD_URL=DASHBOARD_URL,
    )
    for name in ("north", "south"):
        added = possync_cli(
            "shops", "add", name, "--notify-url", mailto_url(inboxes[name].port), env=env
        )
        assert added.returncode == 0, added.explain()
    return env


def plain_text(inbox: SmtpInbox, index: int) -> str:
    return inbox.bodies(index)[0].replace("\r\n", "\n")


def set_entity(db: Database, schema: str, *, failed: bool) -> None:
    """The shop's lightspeed sales as the engine leaves them after a failed or a good run."""
    with Database(db.url, schema).connect() as conn:
        conn.execute(
            """INSERT INTO sync_state (source, entity_type, status, last_sync_time,
                                       last_attempt_time, error_message, created_at)
               VALUES ('lightspeed', 'sales', %(status)s, %(success)s, %(now)s, %(error)s,
                       %(now)s - interval '1 day')
               ON CONFLICT (source, entity_type) DO UPDATE SET
                   status = EXCLUDED.status, last_sync_time = EXCLUDED.last_sync_time,
                   last_attempt_time = EXCLUDED.last_attempt_time,
                   error_message = EXCLUDED.error_message""",
            {
                "status": "failed" if failed else "success",
                "success": None if failed else NOW,
                "now": NOW,
                "error": "GET /search: 503 Service Unavailable" if failed else None,
            },
        )
        conn.commit()


def test_a_shops_failure_reaches_its_own_and_the_global_url_and_names_it(
    db: Database,
    possync_cli: RunPossync,
    shops_env: dict[str, str],
    inboxes: dict[str, SmtpInbox],
) -> None:
    set_entity(db, "shop_north", failed=True)
    checked = possync_cli("alerts", "check", "--all-shops", "--json", env=shops_env)
    assert checked.returncode == 0, checked.explain()
    shops = {shop["shop"]: shop for shop in json.loads(checked.stdout)["shops"]}
    assert list(shops) == ["north", "south"]  # the environment configures no shop of its own
    assert [(p["entity"], p["problem"]) for p in shops["north"]["problems"]] == [
        ("sales", "failed")
    ]
    assert shops["south"]["problems"] == [] and shops["south"]["messages"] == []
    assert shops["north"]["channels"] == 2 and shops["north"]["messages"][0]["delivered"] == 2

    subject = "[north] possync alert: lightspeed sales sync failed"
    assert inboxes["north"].subjects == [subject]
    assert inboxes["global"].subjects == [subject]
    assert inboxes["south"].messages == []
    text, html = plain_text(inboxes["north"], 0), inboxes["north"].bodies(0)[1]
    assert text.startswith("Shop: north\n")
    assert f"Dashboard: {DASHBOARD_URL}/shops/north/" in text
    assert f'<a href="{DASHBOARD_URL}/shops/north/">' in html
    assert "GET /search: 503 Service Unavailable" in text

    # North recovers: one message, to the same two places, naming north.
    set_entity(db, "shop_north", failed=False)
    again = possync_cli("alerts", "check", "--all-shops", env=shops_env)
    assert again.returncode == 0, again.explain()
    assert "north: sent recovered: [north] possync recovered: lightspeed sales" in again.stdout
    assert "south: all entities healthy" in again.stdout and "south: nothing due" in again.stdout
    recovered = "[north] possync recovered: lightspeed sales is healthy again"
    assert inboxes["north"].subjects == [subject, recovered]
    assert inboxes["global"].subjects == [subject, recovered]
    assert inboxes["south"].messages == []


def test_alerts_of_one_shop_and_of_the_named_environment_shop(
    db: Database,
    tmp_path: Path,
    possync_cli: RunPossync,
    shops_env: dict[str, str],
    inboxes: dict[str, SmtpInbox],
) -> None:
    tested = possync_cli("alerts", "test", "--shop", "south", env=shops_env)
    assert tested.returncode == 0, tested.explain()
    assert inboxes["south"].subjects == ["[south] possync test message"]
    assert inboxes["global"].subjects == ["[south] possync test message"]
    assert inboxes["north"].messages == []
    assert f"Dashboard: {DASHBOARD_URL}/shops/south/" in plain_text(inboxes["south"], 0)

    # The environment's own shop, named by POSSYNC_SHOP_NAME, with no registered shop.
    env = environment_for(
        db,
        tmp_path,
        POSSYNC_NOTIFY_URLS=mailto_url(inboxes["north"].port),
        POSSYNC_SHOP_NAME="flagship",
        POSSYNC_DASHBOARD_URL=DASHBOARD_URL,
    )
    with db.connect() as conn:
        conn.execute("DELETE FROM possync_shops")
        conn.commit()
    named = possync_cli("alerts", "test", env=env)
    assert named.returncode == 0, named.explain()
    assert inboxes["north"].subjects == ["[flagship] possync test message"]
    text = plain_text(inboxes["north"], 0)
    assert text.startswith("Shop: flagship\n") and text.endswith(f"Dashboard: {DASHBOARD_URL}")


def test_all_shops_skips_paused_reports_a_broken_shop_and_refuses_shop_too(
    db: Database,
    possync_cli: RunPossync,
    shops_env: dict[str, str],
    inboxes: dict[str, SmtpInbox],
) -> None:
    set_entity(db, "shop_north", failed=True)
    set_entity(db, "shop_south", failed=True)
    assert possync_cli("shops", "pause", "north", env=shops_env).returncode == 0
    with db.connect() as conn:
        conn.execute("DROP SCHEMA shop_south CASCADE")
        conn.commit()
    set_entity(db, "public", failed=True)  # the control schema's own data: not south's

    checked = possync_cli("alerts", "check", "--all-shops", env=shops_env)
    assert checked.returncode == 1, checked.explain()
    assert checked.stdout.splitlines() == [
        "north: paused, not checked",
        "south: could not check: possync's tables are missing in schema 'shop_south': "
        "run `possync migrate`",
    ]
    # South cannot alert about itself: the global URL hears it once, naming the shop and why.
    assert inboxes["north"].messages == [] and inboxes["south"].messages == []
    assert inboxes["global"].subjects == ["possync alert: shop south sync failed"]
    text = plain_text(inboxes["global"], 0)
    assert "- shop south: sync failed" in text and "run `possync migrate`" in text
    again = possync_cli("alerts", "check", "--all-shops", env=shops_env)
    assert again.returncode == 1 and len(inboxes["global"].messages) == 1  # once per streak

    both = possync_cli("alerts", "check", "--all-shops", "--shop", "north", env=shops_env)
    assert both.returncode == 2
    assert both.stderr_lines == ["error: give --shop NAME or --all-shops, not both"]


def test_all_shops_without_shops_checks_the_environments_as_before(
    db: Database, tmp_path: Path, possync_cli: RunPossync, inboxes: dict[str, SmtpInbox]
) -> None:
    set_entity(db, "public", failed=True)
    env = environment_for(db, tmp_path, POSSYNC_NOTIFY_URLS=mailto_url(inboxes["global"].port))
    checked = possync_cli("alerts", "check", "--all-shops", env=env)
    assert checked.returncode == 0, checked.explain()
    assert "default: lightspeed sales: failed" in checked.stdout
    assert inboxes["global"].subjects == ["possync alert: lightspeed sales sync failed"]
    assert SMTP_PASSWORD not in checked.stdout


def test_one_shops_alert_evaluation_never_waits_for_anothers(
    db: Database, tmp_path: Path, shops_env: dict[str, str]
) -> None:
    north, south = Database(db.url, "shop_north"), Database(db.url, "shop_south")
    finished: list[str] = []

    def evaluate(shop: Database) -> threading.Thread:
        settings = make_settings(shop, tmp_path, schema_name=shop.schema)

        def run() -> None:
            check_health(settings, shop, now=NOW)
            finished.append(shop.schema)

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        return thread

    holder = north.connect()  # north's evaluation is under way (its lock held)
    try:
        incidents.lock_alerts(holder)
        evaluate(south).join(timeout=20)
        same_shop = evaluate(north)
        same_shop.join(timeout=1)
        assert finished == ["shop_south"]  # north's second evaluation waits for the first
    finally:
        holder.rollback()
        holder.close()
    same_shop.join(timeout=20)
    assert finished == ["shop_south", "shop_north"]


def test_a_shop_named_in_alerts_keeps_its_times_in_its_time_zone(
    db: Database, possync_cli: RunPossync, shops_env: dict[str, str], inboxes: dict[str, SmtpInbox]
) -> None:
    added = possync_cli(
        "shops", "add", "east", "--timezone", "Asia/Tokyo",
        "--notify-url", mailto_url(inboxes["north"].port), env=shops_env,
    )  # fmt: skip
    assert added.returncode == 0, added.explain()
    set_entity(db, "shop_east", failed=True)
    # It last succeeded a day ago: a day before now, not before the module was imported (a
    # long suite runs it minutes later, and "1 d 7 min ago" is what it would then say).
    a_day_ago = datetime.now(UTC) - timedelta(days=1)
    with Database(db.url, "shop_east").connect() as conn:
        conn.execute("UPDATE sync_state SET last_sync_time = %s", (a_day_ago,))
        conn.commit()
    checked = possync_cli("alerts", "check", "--all-shops", env=shops_env)
    assert checked.returncode == 0, checked.explain()
    assert inboxes["north"].subjects == ["[east] possync alert: lightspeed sales sync failed"]
    text = plain_text(inboxes["north"], 0)
    assert " JST (1 d ago)" in text


def test_a_shop_url_with_several_recipients_reaches_each(
    db: Database, tmp_path: Path, possync_cli: RunPossync, inboxes: dict[str, SmtpInbox]
) -> None:
    # A comma inside an apprise URL separates recipients, not URLs.
    two = mailto_url(inboxes["north"].port).replace(
        "to=ops@shop.example", "to=ops@shop.example,owner@north.example"
    )
    env = environment_for(db, tmp_path, POSSYNC_ENCRYPTION_KEY=KEY)
    assert possync_cli("shops", "add", "north", "--notify-url", two, env=env).returncode == 0
    tested = possync_cli("alerts", "test", "--shop", "north", "--json", env=env)
    assert tested.returncode == 0, tested.explain()
    assert json.loads(tested.stdout) == {
        "channels": [{"url": 1, "service": "E-Mail", "delivered": True, "error": None}]
    }
    recipients = sorted(str(message["To"]) for message in inboxes["north"].messages)
    assert recipients in (
        ["ops@shop.example", "owner@north.example"],
        ["ops@shop.example, owner@north.example"],
    )


def test_a_shops_quarantine_alert_names_it_and_links_to_its_quarantine_page(
    db: Database, tmp_path: Path, shops_env: dict[str, str], inboxes: dict[str, SmtpInbox]
) -> None:
    run_id = uuid.uuid4()
    north = Database(db.url, "shop_north")
    with north.connect() as conn:
        conn.execute(
            """INSERT INTO sync_quarantine (source, entity_type, record_id, reason, run_id)
               VALUES ('lightspeed', 'sales', 's-1', 'total_price: not a number', %s)""",
            (run_id,),
        )
        conn.commit()
    base = make_settings(
        db,
        tmp_path,
        notify_urls=mailto_url(inboxes["global"].port),
        dashboard_url=DASHBOARD_URL,
        encryption_key=KEY,
    )
    with db.connect() as conn:
        [shop] = [s for s in load_shops(conn, TokenCipher([KEY])) if s.name == "north"]
    result = EntityResult(
        source="lightspeed",
        entity="sales",
        run_id=run_id,
        status="completed",
        action="incremental_sync",
        counters=RunCounters(records=10, quarantined=1),
    )
    outcome = after_sync(shop_settings(base, shop), north, report_of(result), now=NOW)
    assert outcome.error is None
    title = "[north] possync: 1 new record in quarantine (lightspeed sales)"
    assert inboxes["north"].subjects == [title] and inboxes["global"].subjects == [title]
    assert inboxes["south"].messages == []
    text = plain_text(inboxes["north"], 0)
    assert text.startswith("Shop: north\n") and "s-1: total_price: not a number" in text
    assert f"{DASHBOARD_URL}/shops/north/quarantine" in text


def test_a_shops_reconciliation_alert_and_daily_summary_name_it(
    db: Database, tmp_path: Path, shops_env: dict[str, str], inboxes: dict[str, SmtpInbox]
) -> None:
    base = make_settings(
        db, tmp_path, dashboard_url=DASHBOARD_URL, encryption_key=KEY, daily_summary=True,
        daily_summary_hour=0,
    )  # fmt: skip
    with db.connect() as conn:
        [shop] = [s for s in load_shops(conn, TokenCipher([KEY])) if s.name == "south"]
    south = Database(db.url, "shop_south")
    mismatch = ReconciliationMismatch("lightspeed", "sales", "API 12 sales, database 11")
    outcome = report_reconciliation(shop_settings(base, shop), south, [mismatch], now=NOW)
    assert outcome.error is None
    summary = check_health(shop_settings(base, shop), south, now=NOW)
    assert [m.kind for m in summary.messages] == ["daily_summary"]
    subjects = inboxes["south"].subjects
    assert subjects[0] == "[south] possync alert: lightspeed sales does not reconcile"
    assert subjects[1].startswith(f"[south] possync daily summary {NOW.date().isoformat()}")
    assert plain_text(inboxes["south"], 1).startswith("Shop: south\n")
    assert inboxes["north"].messages == [] and inboxes["global"].messages == []
