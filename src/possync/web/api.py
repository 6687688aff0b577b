"""Machine endpoints: `/api/status` (JSON, needs a session; the overview polls it for live
progress; a shop's at `/shops/<name>/api/status`), `/healthz` (open, for uptime monitors) and
`/metrics` (Prometheus text, every shop; open, or guarded by POSSYNC_METRICS_TOKEN as a bearer
token)."""

from __future__ import annotations

import hashlib
import hmac
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import psycopg
from flask import Blueprint, Response, jsonify, request

from possync.db.access import ensure_schema_exists
from possync.db.jobs_schema import job_queue_schema_exists
from possync.errors import SchemaMissingError
from possync.health.thresholds import resolved_overrides
from possync.jobs.heartbeat import ALIVE_WITHIN_SECONDS
from possync.web.cache import activity_fingerprint
from possync.web.liveness import current_liveness, missing_roles
from possync.web.metrics import render_metrics
from possync.web.reconcile_data import read_money_checks
from possync.web.shop_context import ShopView, current_shop, shop_connection
from possync.web.state import connection, web_state
from possync.web.status_data import (
    HEALTH_LEVELS,
    Card,
    card_failures,
    job_state_for,
    read_active_jobs,
    read_cards,
    read_live_runs,
)

blueprint = Blueprint("api", __name__)


def cached_cards(conn: psycopg.Connection[Any], shop: ShopView) -> list[Card]:
    """The shop's cards (`conn` on its schema), from the status cache while nothing started
    or ended."""
    fingerprint = activity_fingerprint(conn)
    return web_state().cache.get(
        f"{shop.name}/cards", fingerprint, lambda: read_cards(conn, shop.settings)
    )


def build_status() -> dict[str, Any]:
    """The request's shop's cards (cached), plus live progress and queued jobs (always fresh:
    they move each page)."""
    state, shop, conn = web_state(), current_shop(), shop_connection()
    cards = cached_cards(conn, shop)
    live = {run.key: run for run in read_live_runs(conn, cards)}
    jobs = read_active_jobs(conn, shop.job_arg)
    card_json = []
    for card in cards:
        data = card.to_json()
        run = live.get(card.key)
        data["running"] = run.to_json() if run else None
        data["job"] = "doing" if run else job_state_for(card, jobs)
        card_json.append(data)
    health = Counter(card.health for card in cards)
    settings = shop.settings
    # A reconciliation writes a sync_log row, which moves the fingerprint: cached like cards.
    money_checks = state.cache.get(
        f"{shop.name}/money_checks",
        activity_fingerprint(conn),
        lambda: read_money_checks(conn, settings),
    )
    return {
        "generated_at": datetime.now(UTC).isoformat(),
        "shop": shop.name,
        "timezone": settings.timezone,
        "thresholds": {
            "green_hours": settings.health_green_hours,
            "yellow_hours": settings.health_yellow_hours,
            "per_entity": {
                key: {"green_hours": t.green_hours, "yellow_hours": t.yellow_hours}
                for key, t in resolved_overrides(settings).items()
            },
        },
        "summary": {colour: health.get(colour, 0) for colour in HEALTH_LEVELS},
        "cards": card_json,
        "failures": [
            group.to_json()
            | {
                "line": group.line,
                "other_red": sum(
                    1
                    for card in cards
                    if card.source == group.source
                    and card.health == "red"
                    and card.entity not in group.entities
                ),
            }
            for group in card_failures(cards)
        ],
        "jobs": {
            "queued": sum(1 for job in jobs if job.status == "todo"),
            "running": sum(1 for job in jobs if job.status == "doing"),
        },
        "reconciliation": [check.to_json() for check in money_checks],
    }


@blueprint.route("/api/status")
def status() -> Response:
    """Every card with its health, last run, live progress and job state."""
    return jsonify(build_status())


@blueprint.route("/healthz")
def healthz() -> tuple[Response, int]:
    """200 when the database answers, possync's tables are there and (under `serve`) the
    worker and the scheduler beat recently; 503 otherwise (`status` says which)."""
    conn = connection()
    ensure_schema_exists(conn, web_state().db.schema)
    if not job_queue_schema_exists(conn):
        raise SchemaMissingError("the job queue's tables are missing: run `possync migrate`")
    liveness = current_liveness()
    body: dict[str, Any] = {"status": "ok", "database": "up"}
    body.update({role: state.to_json() for role, state in liveness.items()})
    missing = missing_roles(liveness)
    if missing:
        body["status"] = "degraded"
        body["detail"] = (
            f"no {' and no '.join(missing)} alive (no heartbeat for {ALIVE_WITHIN_SECONDS:.0f} s): "
            "jobs and schedules are not running"
        )
        return jsonify(body), 503
    return jsonify(body), 200


def _metrics_allowed() -> bool:
    token = web_state().settings.metrics_token
    if token is None or not token.get_secret_value():
        return True
    sent = request.headers.get("Authorization", "")
    expected = f"Bearer {token.get_secret_value()}"
    return hmac.compare_digest(
        hashlib.sha256(sent.encode()).digest(), hashlib.sha256(expected.encode()).digest()
    )


@blueprint.route("/metrics")
def metrics() -> Response:
    """Prometheus text format."""
    if not _metrics_allowed():
        return Response(
            "bearer token required\n",
            status=401,
            mimetype="text/plain",
            headers={"WWW-Authenticate": 'Bearer realm="possync metrics"'},
        )
    return Response(render_metrics(), content_type="text/plain; version=0.0.4; charset=utf-8")
