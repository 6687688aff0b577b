"""A registered shop whose schema is missing (or dropped while the dashboard runs) is said to
be so, on its pages, the shops page and /metrics: never read through the search path into
the control schema, whose tables hold the environment's shop."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from possync.db.connection import Database
from possync.shops.model import Shop
from possync.shops.schemas import migrate_shop
from possync.web import create_app
from tests.conftest import make_settings
from tests.web.test_shop_pages import PASSWORD, log_in

CONTROL_ONLY = "ENV-SHOP-ONLY"  # a mark only the control schema's sync_state holds


@pytest.fixture
def dashboard(db: Database, tmp_path: Path) -> Iterator[Flask]:
    settings = make_settings(
        db,
        tmp_path,
        dashboard_password=PASSWORD,
        secret_key="k" * 20,
        status_cache_seconds=0,
        lightspeed_url="http://127.0.0.1:9/api/2.0",
        lightspeed_token="t",
    )
    with db.connect() as conn:
        conn.execute(
            """INSERT INTO sync_state (source, entity_type, status, records_total,
                                       error_message, last_sync_time)
               VALUES ('lightspeed', 'sales', 'failed', 999, %s, now())""",
            (CONTROL_ONLY,),
        )
        for name in ("north", "south"):
            conn.execute(
                "INSERT INTO possync_shops (name, schema_name) VALUES (%s, %s)",
                (name, f"shop_{name}"),
            )
        conn.commit()
    for name in ("north", "south"):
        migrate_shop(db, settings, Shop(name, f"shop_{name}"))
    app = create_app(settings, db)
    yield app
    app.extensions["possync"].close()


def test_a_schema_dropped_while_serving_is_never_read_through_the_control_schema(
    db: Database, dashboard: Flask
) -> None:
    client = dashboard.test_client()
    assert log_in(client).status_code == 302
    before = client.get("/shops/north/api/status")
    assert before.status_code == 200 and CONTROL_ONLY not in before.get_data(as_text=True)
    page = client.get("/shops/north/").get_data(as_text=True)
    assert 'href="/shops/north/connections"' in page  # a registered shop links its connections
    with db.connect() as conn:
        conn.execute("DROP SCHEMA shop_north CASCADE")
        conn.commit()

    after = client.get("/shops/north/api/status")
    assert after.status_code == 503, after.get_data(as_text=True)[:300]
    assert CONTROL_ONLY not in after.get_data(as_text=True)

    shops = client.get("/api/shops").get_json()["shops"]
    north = next(row for row in shops if row["name"] == "north")
    assert north["worst"] == "red" and "run `possync migrate`" in north["problem"]

    metrics = client.get("/metrics").get_data(as_text=True)
    assert 'possync_shop_readable{shop="north"} 0' in metrics
    assert 'possync_shop_readable{shop="south"} 1' in metrics
    assert not [line for line in metrics.splitlines() if 'shop="north",' in line]
    assert 'possync_entity_records{source="lightspeed",entity="sales"} 999' in metrics


def test_after_a_database_restart_only_the_request_that_finds_out_fails(
    db: Database, dashboard: Flask
) -> None:
    client = dashboard.test_client()
    assert log_in(client).status_code == 302
    pages = ("/shops/north/api/status", "/shops/south/api/status", "/shops", "/healthz")
    for page in pages:  # pooled connections on several search paths
        assert client.get(page).status_code == 200, page
    with db.connect() as conn:  # what a restart does to every open connection
        conn.execute(
            """SELECT pg_terminate_backend(pid) FROM pg_stat_activity
               WHERE pid <> pg_backend_pid() AND datname = current_database()"""
        )
    codes = [client.get(page).status_code for page in pages]
    assert codes.count(503) <= 1 and codes[1:] == [200] * (len(pages) - 1), codes
