"""`/metrics` in Prometheus' text format: every shop's entities, the queue and the heartbeats.

The environment's shop keeps the labels it had before shops existed (`source`, `entity`);
a registered shop's samples add `shop`, so one scrape covers the whole deployment.
"""

from __future__ import annotations

from typing import Any

import psycopg

from possync.errors import DatabaseError
from possync.web.cache import activity_fingerprint
from possync.web.liveness import current_liveness
from possync.web.shop_context import ShopView, ensure_shop_schema, every_shop_view
from possync.web.state import borrowed_connection, connection, web_state
from possync.web.status_data import (
    HEALTH_LEVELS,
    read_cards,
    read_finished_run_counts,
    read_live_runs,
    read_queue_job_counts,
)

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
    "possync_shop_readable": (
        "gauge",
        "1 when a registered shop's schema could be read (0: missing, not migrated, or refused).",
    ),
    "possync_jobs": ("gauge", "possync's jobs in the queue by status."),
    "possync_worker_up": ("gauge", "Workers whose heartbeat is recent (0: jobs do not run)."),
    "possync_scheduler_up": ("gauge", "Schedulers whose heartbeat is recent (0: no schedules)."),
    "possync_heartbeat_age_seconds": (
        "gauge",
        "Age of the freshest heartbeat per role (absent: never beat).",
    ),
}


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _sample(name: str, labels: dict[str, str], value: float | int) -> str:
    inner = ",".join(f'{key}="{_label(val)}"' for key, val in labels.items())
    return f"{name}{{{inner}}} {value}" if inner else f"{name} {value}"


def _shop_samples(
    conn: psycopg.Connection[Any], shop: ShopView, samples: dict[str, list[str]]
) -> None:
    """The entity samples of one shop (`conn` on its schema)."""
    cache = web_state().cache
    fingerprint = activity_fingerprint(conn)
    cards = cache.get(f"{shop.name}/cards", fingerprint, lambda: read_cards(conn, shop.settings))
    runs = cache.get(
        f"{shop.name}/metrics_runs", fingerprint, lambda: read_finished_run_counts(conn)
    )
    live = {run.key for run in read_live_runs(conn, cards)}
    shop_label = {"shop": shop.name} if shop.shop.registered else {}
    for card in cards:
        labels = {**shop_label, "source": card.source, "entity": card.entity}
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
        labels = {**shop_label, "source": source, "entity": entity, "status": status}
        samples["possync_sync_runs_total"].append(_sample("possync_sync_runs_total", labels, count))


def render_metrics() -> str:
    """Every metric with its HELP and TYPE lines."""
    samples: dict[str, list[str]] = {name: [] for name in METRIC_HELP}
    samples["possync_up"].append(_sample("possync_up", {}, 1))
    for shop in every_shop_view():
        with borrowed_connection(shop.path) as conn:
            try:
                # Unchecked, a missing schema would be read through the search path: the
                # control schema's entities reported under this shop's name.
                ensure_shop_schema(conn, shop)
            except DatabaseError:
                readable = 0
            else:
                readable = 1
                _shop_samples(conn, shop, samples)
        if shop.shop.registered:
            name = "possync_shop_readable"
            samples[name].append(_sample(name, {"shop": shop.name}, readable))
    for status, count in read_queue_job_counts(connection()):
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
