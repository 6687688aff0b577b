"""Machine endpoints: `/api/status` (JSON, needs a session; the overview polls it for live
progress), `/healthz` (open, for uptime monitors) and `/metrics` (Prometheus text; open, or
guarded by POSSYNC_METRICS_TOKEN as a bearer token)."""

from __future__ import annotations

import hashlib
import hmac
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, jsonify, request

from possync.db.access import ensure_schema_exists
from possync.db.jobs_schema import job_queue_schema_exists
from possync.errors import SchemaMissingError
from possync.health.thresholds import resolved_overrides
from possync.jobs.heartbeat import ALIVE_WITHIN_SECONDS
from possync.web.cache import activity_fingerprint
from possync.web.liveness import current_liveness, missing_roles
from possync.web.reconcile_data import read_money_checks
from possync.web.state import connection, web_state
from possync.web.status_data import (
    Card,
    card_failures,
    job_state_for,
    read_active_jobs,
    read_cards,
    read_finished_run_counts,
    read_live_runs,
    read_queue_job_counts,
)

blueprint = Blueprint("api", __name__)

HEALTH_LEVELS = {"green": 0, "yellow": 1, "red": 2}


def cached_cards() -> list[Card]:
    """The cards, from the status cache while nothing started or ended."""
    state, conn = web_state(), connection()
    fingerprint = activity_fingerprint(conn)
    return state.cache.get("cards", fingerprint, lambda: read_cards(conn, state.settings))


def build_status() -> dict[str, Any]:
    """Cards (cached), plus live progress and queued jobs (always fresh: they move each page)."""
    state, conn = web_state(), connection()
    cards = cached_cards()
    live = {run.key: run for run in read_live_runs(conn, cards)}
    jobs = read_active_jobs(conn)
    card_json = []
    for card in cards:
        data = card.to_json()
        run = live.get(card.key)
        data["running"] = run.to_json() if run else None
        data["job"] = "doing" if run else job_state_for(card, jobs)
        card_json.append(data)
    health = Counter(card.health for card in cards)
    settings = state.settings
    # A reconciliation writes a sync_log row, which moves the fingerprint: cached like cards.
    money_checks = state.cache.get(
        "money_checks",
        activity_fingerprint(conn),
        lambda: read_money_checks(conn, settings),
    )
    return {
        "generated_at": datetime.now(UTC).isoformat(),
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


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _sample(name: str, labels: dict[str, str], value: float | int) -> str:
    inner = ",".join(f'{key}="{_label(val)}"' for key, val in labels.items())
    return f"{name}{{{inner}}} {value}" if inner else f"{name} {value}"


METRIC_HELP = {
    "possync_up": ("gauge", "1 when the database answered this scrape."),
    "possync_entity_health": ("gauge", "Health per entity: 0 green, 1 yellow, 2 red."),
    "possync_entity_last_success_timestamp_seconds": (
        "gauge",
        "Unix time of the last successful sync (0: never).",
    ),
    "possync_entity_records": ("gauge", "Rows stored for the entity."),
    "possync_entity_failed": ("gauge", "1 when the entity's last run failed."),
    "possync_entity_running": ("gauge", "1 while a run of the entity is going on."),
    "possync_sync_last_duration_seconds": ("gauge", "Duration of the last finished run."),
    "possync_sync_runs_total": ("counter", "Finished runs by outcome (from sync_log)."),
    "possync_jobs": ("gauge", "possync's jobs in the queue by status."),
    "possync_worker_up": ("gauge", "Workers whose heartbeat is recent (0: jobs do not run)."),
    "possync_scheduler_up": ("gauge", "Schedulers whose heartbeat is recent (0: no schedules)."),
    "possync_heartbeat_age_seconds": (
        "gauge",
        "Age of the freshest heartbeat per role (absent: never beat).",
    ),
}


def render_metrics() -> str:
    state, conn = web_state(), connection()
    cards = cached_cards()
    live = {run.key for run in read_live_runs(conn, cards)}
    fingerprint = activity_fingerprint(conn)
    runs = state.cache.get("metrics_runs", fingerprint, lambda: read_finished_run_counts(conn))
    jobs = read_queue_job_counts(conn)
    samples: dict[str, list[str]] = {name: [] for name in METRIC_HELP}
    samples["possync_up"].append(_sample("possync_up", {}, 1))
    for card in cards:
        labels = {"source": card.source, "entity": card.entity}
        last = card.last_sync_time.timestamp() if card.last_sync_time else 0
        for name, value in (
            ("possync_entity_health", HEALTH_LEVELS.get(card.health, 2)),
            ("possync_entity_last_success_timestamp_seconds", round(last, 3)),
            ("possync_entity_records", card.records_total),
            ("possync_entity_failed", int(card.status == "failed")),
            ("possync_entity_running", int(card.key in live)),
        ):
            samples[name].append(_sample(name, labels, value))
        if card.last_run and card.last_run.duration_seconds is not None:
            name = "possync_sync_last_duration_seconds"
            samples[name].append(_sample(name, labels, round(card.last_run.duration_seconds, 3)))
    for source, entity, status, count in runs:
        labels = {"source": source, "entity": entity, "status": status}
        samples["possync_sync_runs_total"].append(_sample("possync_sync_runs_total", labels, count))
    for status, count in jobs:
        samples["possync_jobs"].append(_sample("possync_jobs", {"status": status}, count))
    for role, beats in current_liveness().items():
        samples[f"possync_{role}_up"].append(_sample(f"possync_{role}_up", {}, beats.alive))
        if beats.last_beat_age_seconds is not None:
            age = round(beats.last_beat_age_seconds, 3)
            name = "possync_heartbeat_age_seconds"
            samples[name].append(_sample(name, {"role": role}, age))
    lines = []
    for name, (kind, help_text) in METRIC_HELP.items():
        lines += [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}", *samples[name]]
    return "\n".join(lines) + "\n"


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
