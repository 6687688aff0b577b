"""The settings SQL reads: `possync_settings`, which the `sync_health` view takes its freshness
thresholds from. Every possync process refreshes it when it opens the database, so a changed
POSSYNC_HEALTH_THRESHOLDS needs no `possync migrate`."""

from __future__ import annotations

import json
from typing import Any

import psycopg

from possync.config.settings import Settings
from possync.config.thresholds import per_entity_hours
from possync.db.queries import query

THRESHOLDS_KEY = "health_thresholds"


def publish_health_thresholds(conn: psycopg.Connection[Any], settings: Settings) -> None:
    """Write the thresholds the `sync_health` view reads; a no-op when they are unchanged."""
    # Skipped before `possync migrate` and for a role that may not write the table (a
    # read-only or not yet granted runtime role: the view keeps the thresholds it has).
    row = conn.execute(query("settings_writable")).fetchone()
    if not row or not row[0]:
        return
    for key, value in (
        ("health_green_hours", str(settings.health_green_hours)),
        ("health_yellow_hours", str(settings.health_yellow_hours)),
        (THRESHOLDS_KEY, json.dumps(per_entity_hours(settings.health_thresholds), sort_keys=True)),
    ):
        conn.execute(query("publish_setting"), (key, value))
