"""Reading sync health: one row per (source, entity), coloured by the settings' thresholds.

The CLI (`possync status`), the dashboard and the alerts all read sync_state through
`read_entity_statuses`; the colour rule itself lives in PostgreSQL (`sync_health_at`, migration
0014), which the `sync_health` view calls too, so the two cannot disagree.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from possync.config.settings import Settings
from possync.db.queries import query
from possync.health.thresholds import per_entity_thresholds

GREEN, YELLOW, RED = "green", "yellow", "red"


@dataclass(frozen=True)
class EntityStatus:
    """One sync_state row with its health: what `possync status`, the cards and the alerts show."""

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
    # For the alerts: when the row appeared, and how old a success may be before it is red.
    created_at: datetime | None = field(default=None, compare=False)
    red_after: timedelta | None = field(default=None, compare=False)

    @property
    def key(self) -> tuple[str, str]:
        return (self.source, self.entity_type)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        del data["created_at"], data["red_after"]
        for key in ("last_sync_time", "last_attempt_time", "watermark"):
            value = data[key]
            data[key] = value.isoformat() if value is not None else None
        return data


# An entity with no sync_state row has never synced, which sync_health_at colours red.
NEVER_SYNCED_HEALTH = RED


def read_entity_statuses(
    conn: psycopg.Connection[Any],
    settings: Settings,
    *,
    source: str | None = None,
    as_of: datetime | None = None,
) -> list[EntityStatus]:
    """Every row of sync_state, coloured as of `as_of` (default: the database's clock), ordered
    by source then entity. The one reader of sync_state for the CLI, the dashboard and the
    alerts; the colour comes from `sync_health_at`, the rule the `sync_health` view uses too."""
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            query("entity_health"),
            {
                "as_of": as_of,
                # As text, the way possync_settings holds them for the view.
                "green_hours": str(settings.health_green_hours),
                "yellow_hours": str(settings.health_yellow_hours),
                "per_entity": Jsonb(per_entity_thresholds(settings)),
                "source": source,
            },
        )
        rows = cur.fetchall()
    return [
        EntityStatus(
            source=row["source"],
            entity_type=row["entity_type"],
            status=row["status"],
            health=row["health"],
            last_sync_time=row["last_sync_time"],
            last_attempt_time=row["last_attempt_time"],
            error_message=row["error_message"],
            last_version=row["last_version"],
            watermark=row["watermark"],
            records_total=row["records_total"],
            created_at=row["created_at"],
            red_after=timedelta(hours=float(row["yellow_hours"])),
        )
        for row in rows
    ]


@dataclass(frozen=True)
class FailureGroup:
    """Entities of one source that failed for the same reason: shown once, with the fix."""

    source: str
    reason: str
    entities: tuple[str, ...]
    fix: str | None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def line(self) -> str:
        count = len(self.entities)
        which = self.entities[0] if count == 1 else f"{count} entities"
        fix = f" Fix: {self.fix}." if self.fix else ""
        return f"{self.source}: {which} failed: {self.reason}.{fix}"


def fix_for(source: str, reason: str) -> str | None:
    """What the user can do about a failure, when the reason says."""
    setting = f"POSSYNC_{source.upper()}"
    if "rejected the token" in reason:
        return f"set a valid {setting}_TOKEN (with read access), then sync again"
    if "redirected" in reason:
        return f"set {setting}_URL to the address the server redirects to"
    if "is not configured" in reason:
        return f"set {setting}_TOKEN and its URL setting, or run `possync check`"
    return None


def failure_groups(
    failures: Iterable[tuple[str, str, str, str | None]],
) -> list[FailureGroup]:
    """(source, entity, status, error) rows: the failed ones grouped by source and reason,
    largest group first."""
    grouped: dict[tuple[str, str], list[str]] = {}
    for source, entity, status, error in failures:
        if status == "failed":
            reason = (error or "no reason recorded").strip().rstrip(".")
            grouped.setdefault((source, reason), []).append(entity)
    groups = [
        FailureGroup(source, reason, tuple(entities), fix_for(source, reason))
        for (source, reason), entities in grouped.items()
    ]
    return sorted(groups, key=lambda group: (-len(group.entities), group.source, group.reason))


def summarize_failures(red: list[EntityStatus]) -> list[str]:
    """Lines under `possync status`: each failure reason once with its fix, then the other red
    entities per source and kind (never synced, stale)."""
    rows = [(s.source, s.entity_type, s.status, s.error_message) for s in red]
    lines = [group.line for group in failure_groups(rows)]
    others: dict[tuple[str, str], list[str]] = {}
    for status in red:
        if status.status != "failed":
            kind = "never synced" if status.last_sync_time is None else "stale"
            others.setdefault((status.source, kind), []).append(status.entity_type)
    for (source, kind), entities in others.items():
        which = entities[0] if len(entities) == 1 else f"{len(entities)} entities"
        lines.append(f"{source}: {which} {kind}: {', '.join(entities)}")
    return lines
