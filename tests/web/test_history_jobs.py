"""History (filter, pagination, chart) and jobs (Sync now enqueues; the jobs view lists)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from flask.testing import FlaskClient

from possync.db.connection import Database
from tests.web.conftest import page_csrf, put_log, put_state

_ROW = re.compile(r'<tr class="status-(\w+)">')


def test_history_filters_and_paginates(logged_in: FlaskClient, db: Database) -> None:
    start = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
    for n in range(120):
        status = "failed" if n % 10 == 0 else "completed"
        entity = "products" if n % 2 else "customers"
        put_log(
            db,
            "lightspeed",
            entity,
            status,
            started=start + timedelta(minutes=n),
            duration=1 + n % 7,
            records=100 + n,
            error="HTTP 500" if status == "failed" else None,
        )
    put_state(db, "lightspeed", "products", "success", timedelta(minutes=1))
    put_state(db, "lightspeed", "customers", "success", timedelta(minutes=1))
    first = logged_in.get("/history").get_data(as_text=True)
    assert len(_ROW.findall(first)) == 50
    assert "120 runs" in first and "Page 1 of 3" in first
    last = logged_in.get("/history?page=3").get_data(as_text=True)
    assert len(_ROW.findall(last)) == 20
    failed = logged_in.get("/history?status=failed").get_data(as_text=True)
    assert set(_ROW.findall(failed)) == {"failed"}
    assert len(_ROW.findall(failed)) == 12 and "HTTP 500" in failed
    products = logged_in.get("/history?entity=products&status=completed").get_data(as_text=True)
    assert "60 runs match" in products
    assert "Customers</td>" not in products
    assert 'href="/history?page=2&amp;entity=products&amp;status=completed"' in products
    # The chart: one bar per finished run (up to 200), failed ones marked.
    assert first.count('<rect class="bar ') == 120
    assert first.count('<rect class="bar failed"') == 12
    assert "<polyline" in first


def test_history_chart_is_empty_without_runs(logged_in: FlaskClient) -> None:
    html = logged_in.get("/history").get_data(as_text=True)
    assert "No finished runs match this filter yet." in html
    assert "No runs yet." in html


def sync_now(client: FlaskClient, source: str, entity: str = "") -> tuple[int, dict[str, object]]:
    response = client.post(
        "/jobs/sync",
        data={"source": source, "entity": entity, "csrf_token": page_csrf(client)},
        headers={"Accept": "application/json"},
    )
    return response.status_code, response.get_json()


def test_sync_now_enqueues_once_until_picked_up(logged_in: FlaskClient, db: Database) -> None:
    code, first = sync_now(logged_in, "lightspeed", "products")
    assert code == 200
    job_id = first["jobs"][0]["job_id"]
    assert isinstance(job_id, int)
    code, again = sync_now(logged_in, "lightspeed", "products")
    assert code == 200 and again["jobs"][0]["already_queued"] is True
    assert "already queued" in again["message"]
    code, child = sync_now(logged_in, "lightspeed", "sale_line_items")  # synced with sales
    assert child["jobs"][0]["entity"] == "sales"
    code, everything = sync_now(logged_in, "")
    assert [j["source"] for j in everything["jobs"]] == ["lightspeed"]
    with db.connect() as conn:
        rows = conn.execute(
            """SELECT args->>'entity', lock, queueing_lock, status::text
               FROM procrastinate_jobs ORDER BY id"""
        ).fetchall()
    # The running lock is the source's (one job per shop's source at a time, any entity).
    assert rows == [
        ("products", "possync:source:lightspeed", "possync:sync:lightspeed:products", "todo"),
        ("sales", "possync:source:lightspeed", "possync:sync:lightspeed:sales", "todo"),
        ("", "possync:source:lightspeed", "possync:sync:lightspeed:*", "todo"),
    ]
    cards = {c["key"]: c for c in logged_in.get("/api/status").get_json()["cards"]}
    assert cards["lightspeed/products"]["job"] == "todo"
    assert cards["lightspeed/sale_line_items"]["job"] == "todo"
    jobs = logged_in.get("/jobs?tab=queued").get_data(as_text=True)
    assert jobs.count('class="job-todo"') == 3
    assert f"#{job_id}" in jobs
    assert logged_in.get("/jobs?tab=failed").get_data(as_text=True).count('class="job-') == 0
    partial = logged_in.get("/jobs?partial=1").get_data(as_text=True)
    assert "<html" not in partial and partial.count('class="job-todo"') == 3


def test_sync_now_refuses_unknown_or_unconfigured(logged_in: FlaskClient) -> None:
    code, body = sync_now(logged_in, "lightspeed", "unicorns")
    assert code == 400 and "unknown lightspeed entity" in body["error"]
    code, body = sync_now(logged_in, "square", "orders")
    assert code == 400 and "Square is not configured" in body["error"]


def test_sync_now_without_javascript_redirects_with_a_message(logged_in: FlaskClient) -> None:
    response = logged_in.post(
        "/jobs/sync",
        data={"source": "lightspeed", "entity": "outlets", "csrf_token": page_csrf(logged_in)},
        headers={"Referer": "http://localhost/history"},
    )
    assert response.status_code == 302 and response.headers["Location"] == "/history"
    assert "Queued a sync of Lightspeed outlets" in logged_in.get("/history").get_data(as_text=True)


def test_jobs_page_shows_outcomes(logged_in: FlaskClient, db: Database) -> None:
    _, body = sync_now(logged_in, "lightspeed", "customers")
    job_id = body["jobs"][0]["job_id"]
    with db.connect() as conn:
        conn.execute(
            "UPDATE procrastinate_jobs SET status = 'failed', attempts = 3 WHERE id = %s", (job_id,)
        )
        conn.execute(
            """INSERT INTO sync_job_outcomes (job_id, source, entity_type, attempt, ok, error,
                                              worker)
               VALUES (%s, 'lightspeed', 'customers', 3, false, 'customers: HTTP 503', 'w1')""",
            (job_id,),
        )
        conn.commit()
    failed = logged_in.get("/jobs?tab=failed").get_data(as_text=True)
    assert 'class="job-failed"' in failed and "customers: HTTP 503" in failed
    assert logged_in.get("/jobs?tab=nope").status_code == 404
