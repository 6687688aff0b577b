"""The overview and /api/status: a card per entity, coloured by the thresholds, live progress
from sync_log, and the status cache."""

from __future__ import annotations

import re
from datetime import timedelta

import psycopg
from flask.testing import FlaskClient

from possync.config.settings import Settings
from possync.db.connection import Database
from possync.db.locks import entity_lock_key
from possync.web import create_app
from tests.web.conftest import log_in, put_log, put_state

SEED_ENTITIES = ["customers", "outlets", "products", "sales", "sale_line_items", "inventory"]
_CARD = re.compile(r'<article class="card health-(\w+)[^"]*" data-card data-key="([^"]+)"')


def cards_in(html: str) -> dict[str, str]:
    return {key: health for health, key in _CARD.findall(html)}


def status_cards(client: FlaskClient) -> dict[str, dict[str, object]]:
    response = client.get("/api/status")
    assert response.status_code == 200
    return {card["key"]: card for card in response.get_json()["cards"]}


def test_a_card_per_seed_entity_even_before_any_sync(logged_in: FlaskClient) -> None:
    html = logged_in.get("/").get_data(as_text=True)
    cards = cards_in(html)
    for entity in SEED_ENTITIES:
        assert cards[f"lightspeed/{entity}"] == "red"  # never synced
    assert ">Sale line items</h3>" in html
    assert html.count("Never synced") == len(cards) >= 15


def test_health_follows_the_thresholds(logged_in: FlaskClient, db: Database) -> None:
    put_state(db, "lightspeed", "customers", "success", timedelta(minutes=30), records=1234)
    put_state(db, "lightspeed", "outlets", "success", timedelta(hours=5), records=3)
    put_state(db, "lightspeed", "products", "success", timedelta(hours=13), records=50)
    put_state(db, "lightspeed", "sales", "failed", timedelta(minutes=5), error="HTTP 500")
    put_state(db, "square", "orders", "success", timedelta(hours=1), records=7)
    put_log(db, "lightspeed", "customers", "completed", records=1234, duration=2.5)
    cards = cards_in(logged_in.get("/").get_data(as_text=True))
    assert cards["lightspeed/customers"] == "green"
    assert cards["lightspeed/outlets"] == "yellow"
    assert cards["lightspeed/products"] == "red"
    assert cards["lightspeed/sales"] == "red"
    assert cards["square/orders"] == "green"  # synced once, though not configured now
    api = status_cards(logged_in)
    assert api["lightspeed/customers"]["records_total"] == 1234
    assert api["lightspeed/customers"]["last_run"]["records"] == 1234
    assert api["lightspeed/customers"]["last_run"]["status"] == "completed"
    assert api["lightspeed/sales"]["error"] == "HTTP 500"
    assert api["lightspeed/sale_line_items"]["sync_entity"] == "sales"
    summary = logged_in.get("/api/status").get_json()["summary"]
    assert summary["green"] == 2 and summary["yellow"] == 1
    assert summary["red"] == len(api) - 3


def test_live_progress_only_while_the_entity_lock_is_held(
    logged_in: FlaskClient, db: Database
) -> None:
    put_state(db, "lightspeed", "products", "running", None)
    put_log(db, "lightspeed", "products", "started", records=400, pages=4)
    put_log(db, "lightspeed", "outlets", "started", records=9, pages=1)  # crashed: no lock
    namespace, name = entity_lock_key("lightspeed", "products")
    with psycopg.connect(db.url, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(hashtext(%s), hashtext(%s))", (namespace, name))
        running = status_cards(logged_in)
        assert running["lightspeed/products"]["running"]["records"] == 400
        assert running["lightspeed/products"]["running"]["pages"] == 4
        assert running["lightspeed/products"]["job"] == "doing"
        assert running["lightspeed/outlets"]["running"] is None
    after = status_cards(logged_in)
    assert after["lightspeed/products"]["running"] is None


def test_child_entities_show_progress_under_their_parent_lock(
    logged_in: FlaskClient, db: Database
) -> None:
    put_log(db, "lightspeed", "sale_line_items", "started", records=900, pages=9)
    namespace, name = entity_lock_key("lightspeed", "sales")
    with psycopg.connect(db.url, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(hashtext(%s), hashtext(%s))", (namespace, name))
        running = status_cards(logged_in)
    assert running["lightspeed/sale_line_items"]["running"]["records"] == 900


def test_status_is_cached_until_a_run_or_job_starts_or_ends(
    logged_in: FlaskClient, db: Database
) -> None:
    put_state(db, "lightspeed", "customers", "success", timedelta(minutes=1), records=10)
    assert status_cards(logged_in)["lightspeed/customers"]["records_total"] == 10
    put_state(db, "lightspeed", "customers", "success", timedelta(minutes=1), records=20)
    assert status_cards(logged_in)["lightspeed/customers"]["records_total"] == 10  # cached
    put_log(db, "lightspeed", "customers", "completed", records=10)  # a run ended
    assert status_cards(logged_in)["lightspeed/customers"]["records_total"] == 20
    put_state(db, "lightspeed", "customers", "success", timedelta(minutes=1), records=30)
    with db.connect() as conn:  # a job was queued: procrastinate writes an event
        conn.execute(
            """INSERT INTO procrastinate_jobs (queue_name, task_name, args)
               VALUES ('possync', 'possync.sync', '{"source": "lightspeed"}')"""
        )
        conn.commit()
    assert status_cards(logged_in)["lightspeed/customers"]["records_total"] == 30


def test_cache_ttl_zero_always_reads(db: Database, web_settings: Settings) -> None:
    settings = web_settings.model_copy(update={"status_cache_seconds": 0.0})
    client = create_app(settings, db).test_client()
    log_in(client)
    put_state(db, "lightspeed", "customers", "success", timedelta(minutes=1), records=10)
    assert status_cards(client)["lightspeed/customers"]["records_total"] == 10
    put_state(db, "lightspeed", "customers", "success", timedelta(minutes=1), records=11)
    assert status_cards(client)["lightspeed/customers"]["records_total"] == 11
