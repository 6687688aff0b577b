"""What the rollups keep from outlets, locations, payments and refunds follows their changes
(migration 0015), and days left stale are said on the pages rather than shown as current."""

from __future__ import annotations

from flask.testing import FlaskClient

from possync.db.connection import Database
from possync.db.rollups import refresh_rollups
from possync.simulator import RunningSimulator
from tests.analytics.conftest import lightspeed_state
from tests.analytics.rollup_checks import (
    LIGHTSPEED_PAIRS,
    SQUARE_PAIRS,
    assert_rollups_equal_views,
)
from tests.analytics.truth import counted_sales, local_time


def _stale_count(db: Database) -> int:
    with db.connect() as conn:
        row = conn.execute("SELECT count(*) FROM analytics_stale_days").fetchone()
    return int(row[0]) if row else 0


def _refresh(db: Database) -> None:
    """What the sync does at the end of its run."""
    with db.connect() as conn:
        refresh_rollups(conn)
        conn.commit()


def test_an_outlets_new_time_zone_moves_its_sales_and_a_rename_shows_at_once(
    client: FlaskClient, db: Database, simulator: RunningSimulator
) -> None:
    state = lightspeed_state(simulator)
    sale = max(counted_sales(state), key=lambda s: s.sale_date)
    day = local_time(state, sale).date().isoformat()
    args = {"source": "lightspeed", "from": day, "to": day}
    with db.connect() as conn:
        found = conn.execute(
            "SELECT outlet_id FROM lightspeed_sales WHERE id = %s", [sale.id]
        ).fetchone()
        assert found is not None
        outlet_id = found[0]
        conn.execute(
            "UPDATE lightspeed_outlets SET name = 'Renamed outlet' WHERE id = %s", [outlet_id]
        )
        conn.commit()
    assert _stale_count(db) == 0  # a name is joined when a page reads: nothing to recompute
    rows = client.get("/api/analytics/daily-sales", query_string=args).get_json()["rows"]
    assert "Renamed outlet" in {r["location_name"] for r in rows}

    # Auckland → UTC, as a sync writes an outlet whose time zone was corrected: its sales
    # fall on other business dates and hours.
    with db.connect() as conn:
        conn.execute("UPDATE lightspeed_outlets SET time_zone = 'UTC' WHERE id = %s", [outlet_id])
        conn.commit()
    assert _stale_count(db) > 31  # every day of the outlet's sales
    _refresh(db)
    assert_rollups_equal_views(db, LIGHTSPEED_PAIRS)


def test_square_refunds_payments_and_locations_mark_their_days(
    square_client: FlaskClient, db: Database, square_sim: RunningSimulator
) -> None:
    assert_rollups_equal_views(db, SQUARE_PAIRS)
    with db.connect() as conn:
        refund = conn.execute(
            """SELECT r.id FROM square_refunds r
               JOIN square_order_facts f ON f.order_id = r.order_id AND f.is_return
               ORDER BY r.id LIMIT 1"""
        ).fetchone()
        assert refund is not None, "the store should hold a return with its refund"
        # The team member on the refund is corrected: the return's team member row moves.
        conn.execute(
            """UPDATE square_refunds
               SET raw = jsonb_set(raw, '{team_member_id}', '"TM_CORRECTED"')
               WHERE id = %s""",
            [refund[0]],
        )
        conn.commit()
    assert _stale_count(db) > 0
    _refresh(db)
    assert_rollups_equal_views(db, SQUARE_PAIRS)
    with db.connect() as conn:
        row = conn.execute(
            """SELECT count(*) FROM analytics_breakdown_rollup
               WHERE source = 'square' AND kind = 'user' AND label = 'TM_CORRECTED'"""
        ).fetchone()
    assert row == (1,)

    # A payment paid days after its order was created: its order's day is the one to redo.
    with db.connect() as conn:
        conn.execute(
            """UPDATE square_payments
               SET created_at = created_at + interval '5 days',
                   raw = jsonb_set(raw, '{team_member_id}', '"TM_LATE"')
               WHERE id = (SELECT p.id FROM square_payments p
                           JOIN square_order_facts f ON f.order_id = p.order_id
                           WHERE p.status = 'COMPLETED' AND NOT f.is_return
                           ORDER BY p.id LIMIT 1)"""
        )
        conn.commit()
    _refresh(db)
    assert_rollups_equal_views(db, SQUARE_PAIRS)

    with db.connect() as conn:
        conn.execute("UPDATE square_locations SET timezone = 'Pacific/Kiritimati'")
        conn.commit()
    assert _stale_count(db) > 0
    _refresh(db)
    assert_rollups_equal_views(db, SQUARE_PAIRS)


def test_pages_say_how_many_days_wait_for_the_next_sync(client: FlaskClient, db: Database) -> None:
    # A run that stopped before its refresh, with more days than a page refreshes itself.
    with db.connect() as conn:
        conn.execute(
            """INSERT INTO analytics_stale_days
               SELECT 'lightspeed', d::date
               FROM generate_series('2026-09-01'::date, '2026-10-10', '1 day') AS d"""
        )
        conn.commit()
    args = {"source": "lightspeed", "from": "2026-10-01", "to": "2026-10-31"}
    line = (
        "40 days of Lightspeed sales (2026-09-01 to 2026-10-10) changed since these figures "
        "were last refreshed: the next sync refreshes them."
    )
    for page in ("sales", "products", "stock"):
        html = client.get(f"/{page}", query_string=args).get_data(as_text=True)
        assert html.count("data-stale-days") == 1, page
        assert line in html, page
    body = client.get("/api/analytics/daily-sales", query_string=args).get_json()
    assert body["stale_days"] == 40
    assert client.get("/api/analytics/products", query_string=args).get_json()["stale_days"] == 40

    _refresh(db)  # the next sync
    html = client.get("/sales", query_string=args).get_data(as_text=True)
    assert "data-stale-days" not in html
    assert client.get("/api/analytics/daily-sales", query_string=args).get_json()["stale_days"] == 0
