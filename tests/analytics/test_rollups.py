"""The rollups the pages read (migration 0012) stay equal to the views analysts query, and to
the simulator's truth, through a full import, an incremental sync of a store that moved on
(new and late sales, returns, voids, deletes) and a sync that stopped before its refresh."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from flask.testing import FlaskClient

from possync.config.settings import Settings
from possync.db.connection import Database
from possync.engine.run import SyncRequest, run_sync
from possync.simulator import RunningSimulator
from possync.sources.lightspeed import LightspeedSource
from tests.analytics.conftest import FAST_RETRY, lightspeed_state
from tests.analytics.rollup_checks import (
    LIGHTSPEED_PAIRS,
    SQUARE_PAIRS,
    assert_rollups_equal_views,
)
from tests.analytics.truth import counted_sales, daily_truth, local_time, square_product_truth

DAILY = ("net_sales", "tax", "discounts", "returns", "gross_sales", "total_collected")


def _daily_rollup(db: Database) -> dict[tuple[str, str], tuple[object, ...]]:
    with db.connect() as conn:
        return {
            (str(r[0]), r[1]): tuple(r[2:])
            for r in conn.execute(
                f"""SELECT business_date, location_id, sales_count, return_count,
                           {", ".join(DAILY)}
                    FROM analytics_daily_rollup WHERE source = 'lightspeed'"""
            )
        }


def _assert_daily_rollup_equals_truth(db: Database, simulator: RunningSimulator) -> None:
    expected = daily_truth(lightspeed_state(simulator))
    stored = _daily_rollup(db)
    assert stored.keys() == expected.keys()
    for key, truth in expected.items():
        want = (truth["sales_count"], truth["return_count"], *(truth[f] for f in DAILY))
        assert stored[key] == want, key


def test_lightspeed_rollups_follow_an_incremental_sync(
    synced_settings: Settings, db: Database, simulator: RunningSimulator
) -> None:
    assert_rollups_equal_views(db, LIGHTSPEED_PAIRS)
    _assert_daily_rollup_equals_truth(db, simulator)
    before = _daily_rollup(db)

    # Ten hours of trading: new sales, sales back-dated to earlier days, returns of old
    # sales, voids and deletes of committed ones.
    changes = simulator.simulator.advance(600)["lightspeed"]
    for kind in ("new_sales", "late_sales", "returns", "voids", "deleted_sales"):
        assert changes[kind] > 0, (kind, changes)
    source = LightspeedSource(synced_settings, retry=FAST_RETRY)
    try:
        report = run_sync(synced_settings, db, SyncRequest("lightspeed"), source=source)
    finally:
        source.close()
    assert report.ok, [r.error for r in report.failed]

    assert_rollups_equal_views(db, LIGHTSPEED_PAIRS)
    _assert_daily_rollup_equals_truth(db, simulator)
    changed_days = {day for day, row in _daily_rollup(db).items() if before.get(day) != row}
    assert len(changed_days) > 1, "the changes should reach back past the newest day"


def test_the_dashboard_refreshes_days_a_stopped_sync_left_stale(
    client: FlaskClient, db: Database, simulator: RunningSimulator
) -> None:
    state = lightspeed_state(simulator)
    sale = max(counted_sales(state), key=lambda s: s.total_price_cents)
    day = local_time(state, sale).date().isoformat()
    args = {"source": "lightspeed", "from": day, "to": day}
    before = client.get("/api/analytics/daily-sales", query_string=args).get_json()["totals"]
    # A sync that committed a page (the sale deleted) and stopped before its refresh.
    with db.connect() as conn:
        conn.execute("UPDATE lightspeed_sales SET deleted_at = now() WHERE id = %s", [sale.id])
        conn.commit()
        stale = conn.execute("SELECT count(*) FROM analytics_stale_days").fetchone()
    assert stale == (3,)  # the sale's UTC date and the days either side
    after = client.get("/api/analytics/daily-sales", query_string=args).get_json()["totals"]
    assert (
        Decimal(before["net_sales"]) - Decimal(after["net_sales"])
        == Decimal(sale.total_price_cents) / 100
    )
    assert after["sales_count"] == before["sales_count"] - 1
    assert_rollups_equal_views(db, LIGHTSPEED_PAIRS)


def test_square_rollups_equal_views_and_products_net_of_returns(
    square_client: FlaskClient, square_sim: RunningSimulator, db: Database
) -> None:
    assert_rollups_equal_views(db, SQUARE_PAIRS)
    expected = square_product_truth(square_sim)
    with db.connect() as conn:
        first, last = conn.execute(
            "SELECT min(business_date)::text, max(business_date)::text FROM square_order_facts"
        ).fetchone() or (None, None)
    args = {"source": "square", "from": first, "to": last}
    body = square_client.get("/api/analytics/products", query_string=args).get_json()
    shown: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for row in body["tables"]["all"]:
        shown[row["Product"]][0] += Decimal(row["Units"])
        shown[row["Product"]][1] += Decimal(row["Net sales"])
    assert shown.keys() == expected.keys()
    for label, truth in expected.items():
        units, net = shown[label]
        assert units == truth["units"], label
        assert net == truth["net_sales"] / 100, label  # cents to dollars, exactly
    sold_only = square_product_truth(square_sim, returns=False)
    returned = sum(1 for label in expected if expected[label] != sold_only[label])
    assert returned > 0, "some products should have been returned"
    assert (
        Decimal(body["summary"]["net_sales"])
        == sum((t["net_sales"] for t in expected.values()), Decimal(0)) / 100
    )


def test_the_dashboard_leaves_an_import_under_way_to_the_sync(
    client: FlaskClient, db: Database, simulator: RunningSimulator
) -> None:
    # More than a month of stale days: an import is under way; a page request does not take
    # its days (the sync's commits would wait for it), the sync's own refresh will.
    with db.connect() as conn:
        conn.execute(
            """INSERT INTO analytics_stale_days
               SELECT 'lightspeed', d::date
               FROM generate_series('2026-09-01'::date, '2026-10-10', '1 day') AS d"""
        )
        conn.commit()
    args = {"source": "lightspeed", "from": "2026-09-01", "to": "2026-10-10"}
    assert client.get("/api/analytics/daily-sales", query_string=args).status_code == 200
    with db.connect() as conn:
        assert conn.execute("SELECT count(*) FROM analytics_stale_days").fetchone() == (40,)
        conn.execute("DELETE FROM analytics_stale_days WHERE business_date > '2026-09-30'")
        conn.commit()
    assert client.get("/api/analytics/daily-sales", query_string=args).status_code == 200
    assert_rollups_equal_views(db, LIGHTSPEED_PAIRS)  # 30 stale days: the page refreshed them


def test_a_refresh_that_fails_keeps_the_runs_report_and_its_days_stale(
    synced_settings: Settings, db: Database, simulator: RunningSimulator
) -> None:
    # A rollup that refuses every row: the refresh after the run fails in the database.
    with db.connect() as conn:
        conn.execute(
            "ALTER TABLE analytics_daily_rollup ADD CONSTRAINT refuse CHECK (false) NOT VALID"
        )
        conn.commit()
    changes = simulator.simulator.advance(120)["lightspeed"]
    assert changes["new_sales"] > 0
    source = LightspeedSource(synced_settings, retry=FAST_RETRY)
    try:
        report = run_sync(synced_settings, db, SyncRequest("lightspeed"), source=source)
    finally:
        source.close()
    assert report.ok, [r.error for r in report.failed]
    assert report.rollup_error is not None and "refuse" in report.rollup_error
    assert next(r for r in report.results if r.entity == "sales").records > 0
    with db.connect() as conn:
        stale = conn.execute("SELECT count(*) FROM analytics_stale_days").fetchone()
        assert stale is not None and stale[0] > 0  # left for the next refresh, not lost
        conn.execute("ALTER TABLE analytics_daily_rollup DROP CONSTRAINT refuse")
        conn.commit()
    source = LightspeedSource(synced_settings, retry=FAST_RETRY)
    try:
        again = run_sync(synced_settings, db, SyncRequest("lightspeed"), source=source)
    finally:
        source.close()
    assert again.ok and again.rollup_error is None
    assert_rollups_equal_views(db, LIGHTSPEED_PAIRS)
    _assert_daily_rollup_equals_truth(db, simulator)
