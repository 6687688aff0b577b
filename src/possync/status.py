"""Reading sync health: one row per (source, entity), coloured by the settings' thresholds.

The CLI (`possync status`), the dashboard and the alerts all read health through here, so the
colour rules live in one place.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg
from psycopg.rows import dict_row

from possync.config import Settings
from possync.health_thresholds import thresholds_for

GREEN, YELLOW, RED, GREY = "green", "yellow", "red", "grey"


@dataclass(frozen=True)
class EntityStatus:
    source: str
    entity_type: str
    status: str
    health: str
    last_sync_time: datetime | None
    last_attempt_time: datetime | None
    error_message: str | None
    last_version: int | None
    watermark: datetime | None
    records_total: int

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("last_sync_time", "last_attempt_time", "watermark"):
            value = data[key]
            data[key] = value.isoformat() if value is not None else None
        return data


def health_colour(
    status: str,
    last_sync_time: datetime | None,
    now: datetime,
    settings: Settings,
    *,
    source: str,
    entity: str,
) -> str:
    """green: success within the entity's green threshold; yellow: up to its yellow one; red:
    older, failed, or never synced."""
    if status == "failed" or last_sync_time is None:
        return RED
    thresholds = thresholds_for(settings, source, entity)
    age = now - last_sync_time
    if age > timedelta(hours=thresholds.yellow_hours):
        return RED
    if age > timedelta(hours=thresholds.green_hours):
        return YELLOW
    return GREEN


def read_entity_statuses(
    conn: psycopg.Connection[Any], settings: Settings, *, source: str | None = None
) -> list[EntityStatus]:
    """Every row of sync_state, coloured, ordered by source then entity."""
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            """SELECT source, entity_type, status, last_sync_time, last_attempt_time,
                      error_message, last_version, watermark, records_total, now() AS now
               FROM sync_state
               WHERE %(source)s::text IS NULL OR source = %(source)s
               ORDER BY source, entity_type""",
            {"source": source},
        )
        rows = cur.fetchall()
    return [
        EntityStatus(
            source=row["source"],
            entity_type=row["entity_type"],
            status=row["status"],
            health=health_colour(
                row["status"],
                row["last_sync_time"],
                row["now"],
                settings,
                source=row["source"],
                entity=row["entity_type"],
            ),
            last_sync_time=row["last_sync_time"],
            last_attempt_time=row["last_attempt_time"],
            error_message=row["error_message"],
            last_version=row["last_version"],
            watermark=row["watermark"],
            records_total=row["records_total"],
        )
        for row in rows
    ]
