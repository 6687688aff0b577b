"""The dashboard of a deployment with several shops: `/` lists them, each shop's pages live
under `/shops/<name>/…` and show only that shop's data, equal to its own store's truth."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from bench.trials.serving import csrf_from
from flask import Flask
from flask.testing import FlaskClient

from possync.db.connection import Database
from possync.engine.reconcile import Difference, ReconcileReport, record_reconcile
from possync.simulator import RunningSimulator
from possync.web import create_app
from tests.analytics.truth import counted_sales, daily_truth, local_time
from tests.conftest import make_settings
from tests.support.cli import RunPossync
from tests.support.environment import environment_for
from tests.web.conftest import PASSWORD, log_in
from tests.web.shop_setup import (
    KEY,
    SHOP_SCHEMAS,
    SHOP_STORES,
    add_shop,
    lightspeed_state,
    set_up_three_shops,
    stores,
)

__all__ = ["stores"]  # the module-scoped simulator fixture

MONEY = ("net_sales", "tax", "discounts", "returns", "gross_sales", "total_collected")


def dashboard(db: Database, tmp_path: Path, **sources: str) -> Flask:
    settings = make_settings(
        db,
        tmp_path,
        dashboard_password=PASSWORD,
        secret_key="test-secret-key",
        status_cache_seconds=60,  # cached: a shop must never get another shop's cached cards
        **sources,
    )
    return create_app(settings, db)


@pytest.fixture
def three_shops(
    db: Database, tmp_path: Path, stores: RunningSimulator, possync_cli: RunPossync
) -> Iterator[FlaskClient]:
    set_up_three_shops(db, tmp_path, stores, possync_cli)
    app = dashboard(
        db,
        tmp_path,
        lightspeed_url=stores.lightspeed_url,
        lightspeed_token=stores.token,
        square_url=stores.square_url,
        square_token=stores.token,
    )
    client = app.test_client()
    assert log_in(client).status_code == 302
    yield client
    app.extensions["possync"].close()


def truth(sim: RunningSimulator, store: int) -> dict[str, Any]:
    answer = httpx.get(sim.base_url + "/_simulator/truth", params={"store": store})
    body: dict[str, Any] = answer.json()
    return body


def stored_rows(api: dict[str, Any], source: str) -> dict[str, int]:
    """entity → rows stored (alive and deleted, malformed ones in quarantine instead)."""
    malformed = {k: set(v) for k, v in (api.get("malformed") or {}).items()}
    return {
        entity: len((set(ids["alive"]) | set(ids["deleted"])) - malformed.get(entity, set()))
        for entity, ids in api["entities"].items()
    }


def test_each_shops_pages_show_only_its_own_store(
    three_shops: FlaskClient, stores: RunningSimulator, db: Database
) -> None:
    client = three_shops
    net_sales: dict[str, str] = {}
    for name, store in SHOP_STORES.items():
        status = client.get(f"/shops/{name}/api/status").get_json()
        assert status["shop"] == name
        cards = {card["key"]: card for card in status["cards"]}
        expected = truth(stores, store)
        for source in ("lightspeed", "square"):
            for entity, rows in stored_rows(expected[source], source).items():
                key = f"{source}/{entity}"
                if key in cards:
                    assert cards[key]["records_total"] == rows, (name, key)
        assert status["summary"] == {"green": len(cards), "yellow": 0, "red": 0}, name

        state = lightspeed_state(stores, store)
        days = [local_time(state, s).date() for s in counted_sales(state)]
        window = {"source": "lightspeed", "from": str(min(days)), "to": str(max(days))}
        answer = client.get(f"/shops/{name}/api/analytics/daily-sales", query_string=window)
        assert answer.status_code == 200, answer.get_data(as_text=True)
        totals, sums = answer.get_json()["totals"], daily_truth(state).values()
        assert totals["sales_count"] == sum(day["sales_count"] for day in sums), name
        for field in MONEY:
            assert Decimal(totals[field]) == sum(day[field] for day in sums), (name, field)
        net_sales[name] = totals["net_sales"]
        csv = client.get(f"/shops/{name}/analytics/sales/daily.csv", query_string=window)
        assert csv.status_code == 200 and csv.mimetype == "text/csv"
        assert len(csv.get_data(as_text=True).splitlines()) - 1 == len(sums), name

        with Database(db.url, SHOP_SCHEMAS[name]).connect() as conn:
            runs = conn.execute("SELECT count(*) FROM sync_log").fetchone()
        history = client.get(f"/shops/{name}/history").get_data(as_text=True)
        assert runs is not None and f"{runs[0]:,} runs." in history, name
        assert f"/shops/{name}/history" in history  # links stay in the shop
    assert len(set(net_sales.values())) == 3, net_sales  # three stores, three sets of figures

    # Today's URLs are the environment's shop when there are several.
    assert client.get("/api/status").get_json()["shop"] == "default"
    missing = client.get("/shops/west/history")
    assert missing.status_code == 404
    assert "No shop is named &#39;west&#39;" in missing.get_data(as_text=True)
    assert 'href="/shops">See the list of shops' in missing.get_data(as_text=True)
    assert client.get("/shops/west/api/status").get_json()["detail"] == (
        "No shop is named 'west': see the list of shops."
    )


def test_the_shops_page_lists_every_shop_with_health_and_money_check(
    three_shops: FlaskClient, db: Database
) -> None:
    client = three_shops
    week = (date(2026, 10, 25), date(2026, 10, 31))
    differs = ReconcileReport("lightspeed", *week, days_checked=14)
    differs.differences = [Difference("outlet-1", "2026-10-30", "total", "10.00", "9.00")]
    record_reconcile(Database(db.url, "shop_north"), differs)
    record_reconcile(Database(db.url, "shop_south_side"), ReconcileReport("square", *week, 7))
    with db.connect() as conn:
        conn.execute("UPDATE possync_shops SET paused = true WHERE name = 'south-side'")
        conn.commit()

    rows = {row["name"]: row for row in client.get("/api/shops").get_json()["shops"]}
    assert list(rows) == ["default", "north", "south-side"]
    for row in rows.values():
        assert row["sources"] == ["lightspeed", "square"]
        assert row["health"]["red"] == row["health"]["yellow"] == 0 and row["health"]["green"]
        assert row["worst"] == "green" and row["last_success"] is not None
    assert rows["north"]["money_check"] == {
        "lightspeed": {"verdict": "differs", "differences": 1},
        "square": {"verdict": "not run", "differences": 0},
    }
    assert rows["south-side"]["money_check"]["square"]["verdict"] == "matches"
    assert rows["default"]["money_check"]["lightspeed"]["verdict"] == "not run"
    assert [row["paused"] for row in rows.values()] == [False, False, True]

    page = client.get("/").get_data(as_text=True)  # several shops: / is the shops page
    assert "<h1>Shops</h1>" in page
    for name in rows:
        assert f'href="/shops/{name}/"' in page
    assert "Lightspeed: 1 difference" in page and "Square: matches" in page
    assert page.count("paused</span>") == 1
    assert client.get("/shops").get_data(as_text=True).count('class="shop-row') == 3
    assert "This shop is paused" in client.get("/shops/south-side/").get_data(as_text=True)
    assert "This shop is paused" not in client.get("/shops/north/").get_data(as_text=True)


def test_sync_now_queues_the_shops_own_job(three_shops: FlaskClient, db: Database) -> None:
    client = three_shops
    page = client.get("/shops/north/").get_data(as_text=True)
    assert 'action="/shops/north/jobs/sync"' in page
    answer = client.post(
        "/shops/north/jobs/sync",
        data={"source": "square", "entity": "orders", "csrf_token": csrf_from(page)},
        headers={"Accept": "application/json"},
    )
    assert answer.status_code == 200, answer.get_data(as_text=True)
    with db.connect() as conn:
        jobs = conn.execute("SELECT args FROM procrastinate_jobs WHERE status = 'todo'").fetchall()
    assert [job[0]["shop"] for job in jobs] == ["north"]
    assert jobs[0][0]["source"] == "square" and jobs[0][0]["entity"] == "orders"

    def queued(name: str) -> set[str]:
        cards = client.get(f"/shops/{name}/api/status").get_json()["cards"]
        return {card["key"] for card in cards if card["job"] == "todo"}

    assert "square/orders" in queued("north")
    assert queued("south-side") == set() and queued("default") == set()
    north_jobs = client.get("/shops/north/jobs").get_data(as_text=True)
    south_jobs = client.get("/shops/south-side/jobs").get_data(as_text=True)
    assert "Square" in north_jobs and "Orders" in north_jobs
    assert "Square" not in south_jobs.split("<table", 1)[-1]


def test_metrics_label_every_registered_shop(three_shops: FlaskClient) -> None:
    text = three_shops.get("/metrics").get_data(as_text=True)
    statuses = {
        name: three_shops.get(f"/shops/{name}/api/status").get_json() for name in SHOP_STORES
    }
    for name, status in statuses.items():
        sales = next(c for c in status["cards"] if c["key"] == "lightspeed/sales")
        labels = 'source="lightspeed",entity="sales"'
        if name != "default":
            labels = f'shop="{name}",' + labels
        assert f"possync_entity_records{{{labels}}} {sales['records_total']}" in text, name
    assert 'shop="default"' not in text  # the environment's shop keeps its old labels


def test_one_registered_shop_keeps_todays_urls(
    db: Database, tmp_path: Path, stores: RunningSimulator, possync_cli: RunPossync
) -> None:
    env = environment_for(db, tmp_path, POSSYNC_ENCRYPTION_KEY=KEY)
    add_shop(possync_cli, env, tmp_path, stores, "north")
    app = dashboard(db, tmp_path)
    client = app.test_client()
    log_in(client)
    status = client.get("/api/status").get_json()
    assert status["shop"] == "north" and status["timezone"] == "Europe/London"
    assert {card["source"] for card in status["cards"]} == {"lightspeed", "square"}
    overview = client.get("/").get_data(as_text=True)
    assert "Sync status" in overview and 'action="/jobs/sync"' in overview
    assert 'href="/history"' in overview  # no /shops/… prefix with one shop

    add_shop(possync_cli, env, tmp_path, stores, "south-side")
    assert "<h1>Shops</h1>" in client.get("/").get_data(as_text=True)
    # No environment shop: a page without a shop leads to the list, the API says why.
    history = client.get("/history")
    assert history.status_code == 302 and history.headers["Location"] == "/shops"
    answer = client.get("/api/status")
    assert answer.status_code == 404
    assert answer.get_json()["detail"] == (
        "several shops (north, south-side): ask /shops/NAME/api/status"
    )
    app.extensions["possync"].close()


def test_a_shop_whose_schema_is_gone_never_shows_another_shops_data(
    db: Database, tmp_path: Path, stores: RunningSimulator, possync_cli: RunPossync
) -> None:
    env = environment_for(db, tmp_path, POSSYNC_ENCRYPTION_KEY=KEY)
    for name in ("north", "south-side"):
        add_shop(possync_cli, env, tmp_path, stores, name)
    with db.connect() as conn:  # the control schema's own tables hold something to leak
        conn.execute(
            "INSERT INTO sync_state (source, entity_type, status, records_total) "
            "VALUES ('lightspeed', 'sales', 'success', 999)"
        )
        conn.execute("DROP SCHEMA shop_north CASCADE")
        conn.commit()
    app = dashboard(db, tmp_path)
    client = app.test_client()
    log_in(client)
    answer = client.get("/shops/north/api/status")
    assert answer.status_code == 503
    assert answer.get_json()["detail"] == (
        "possync's tables are missing in schema 'shop_north': run `possync migrate`"
    )
    rows = {row["name"]: row for row in client.get("/api/shops").get_json()["shops"]}
    assert rows["north"]["problem"] == "schema shop_north is not migrated: run `possync migrate`"
    assert rows["north"]["health"] == {"green": 0, "yellow": 0, "red": 0}
    assert rows["south-side"]["problem"] is None and rows["south-side"]["health"]["red"] == 25
    app.extensions["possync"].close()
