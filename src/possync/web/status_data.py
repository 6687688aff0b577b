"""What the overview, `/api/status` and `/metrics` show: a card per (source, entity), the runs
going on now, and the sync jobs waiting or running.

Cards come from `sync_state` (read and coloured by `possync.health.status`, its one reader)
plus the entities a configured source will sync, even before their first run. Live progress
comes from `sync_log` rows still `started` whose entity lock is held right now (a crashed run's
row is not shown as running).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import psycopg
from psycopg.rows import dict_row

from possync.config.settings import Settings
from possync.db.locks import LOCK_NAMESPACE
from possync.db.queries import query
from possync.health.status import (
    NEVER_SYNCED_HEALTH,
    FailureGroup,
    failure_groups,
    read_entity_statuses,
)
from possync.jobs.names import SYNC_QUEUES, SYNC_TASK
from possync.sources.registry import (
    SOURCES,
    child_entities_for,
    configured_sources,
    entities_for,
    tables_for,
)

SOURCE_LABELS = {"lightspeed": "Lightspeed", "square": "Square"}
HEALTH_LEVELS = {"green": 0, "yellow": 1, "red": 2}


def entity_label(entity: str) -> str:
    """ "sale_line_items" → "Sale line items"."""
    return entity.replace("_", " ").capitalize()


def source_label(source: str) -> str:
    return SOURCE_LABELS.get(source, source.capitalize())


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


@dataclass(frozen=True)
class RunInfo:
    """The last finished run of an entity."""

    run_id: str
    action: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    duration_seconds: float | None
    records: int
    error: str | None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["started_at"] = _iso(self.started_at)
        data["finished_at"] = _iso(self.finished_at)
        return data


@dataclass(frozen=True)
class Card:
    source: str
    entity: str
    status: str
    health: str
    last_sync_time: datetime | None
    last_attempt_time: datetime | None
    records_total: int
    error_message: str | None
    last_run: RunInfo | None
    sync_entity: str  # what "Sync now" syncs: the parent for child rows

    @property
    def key(self) -> str:
        return f"{self.source}/{self.entity}"

    @property
    def label(self) -> str:
        return entity_label(self.entity)

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "source": self.source,
            "source_label": source_label(self.source),
            "entity": self.entity,
            "label": self.label,
            "status": self.status,
            "health": self.health,
            "last_sync_time": _iso(self.last_sync_time),
            "last_attempt_time": _iso(self.last_attempt_time),
            "records_total": self.records_total,
            "error": self.error_message,
            "last_run": self.last_run.to_json() if self.last_run else None,
            "sync_entity": self.sync_entity,
        }


@dataclass(frozen=True)
class LiveRun:
    source: str
    entity: str
    run_id: str
    action: str
    started_at: datetime
    records: int
    pages: int
    estimated_total: int | None

    @property
    def key(self) -> str:
        return f"{self.source}/{self.entity}"

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["started_at"] = _iso(self.started_at)
        data["key"] = self.key
        return data


@dataclass(frozen=True)
class ActiveJob:
    id: int
    status: str  # todo | doing
    source: str
    entity: str  # "" = every entity

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def parent_entities(sources: tuple[str, ...]) -> dict[tuple[str, str], str]:
    """(source, child entity) → the entity it is synced with."""
    parents = {}
    for source in sources:
        for parent in tables_for(source):
            for child in child_entities_for(source, parent):
                parents[(source, child)] = parent
    return parents


def read_cards(conn: psycopg.Connection[Any], settings: Settings) -> list[Card]:
    """A card per sync_state row and per entity a configured source will sync."""
    statuses = {status.key: status for status in read_entity_statuses(conn, settings)}
    last_runs = _read_last_runs(conn, list(statuses))
    sources = configured_sources(settings)
    order: dict[tuple[str, str], tuple[int, int, str]] = {}
    for source_index, source in enumerate(SOURCES):
        expected = entities_for(source) if source in sources else ()
        for entity_index, entity in enumerate(expected):
            order[(source, entity)] = (source_index, entity_index, entity)
    for source, entity in statuses:
        source_index = SOURCES.index(source) if source in SOURCES else len(SOURCES)
        order.setdefault((source, entity), (source_index, 10_000, entity))
    known_sources = tuple(s for s in SOURCES if any(key[0] == s for key in order))
    parents = parent_entities(known_sources)
    cards = []
    for key in sorted(order, key=order.__getitem__):
        source, entity = key
        state = statuses.get(key)
        cards.append(
            Card(
                source=source,
                entity=entity,
                status=state.status if state else "never_synced",
                health=state.health if state else NEVER_SYNCED_HEALTH,
                last_sync_time=state.last_sync_time if state else None,
                last_attempt_time=state.last_attempt_time if state else None,
                records_total=state.records_total if state else 0,
                error_message=state.error_message if state else None,
                last_run=last_runs.get(key),
                sync_entity=parents.get(key, entity),
            )
        )
    return cards


def card_failures(cards: list[Card]) -> list[FailureGroup]:
    """Failed cards grouped by source and reason, for one banner instead of N red cards."""
    return failure_groups((c.source, c.entity, c.status, c.error_message) for c in cards)


def _read_last_runs(
    conn: psycopg.Connection[Any], keys: list[tuple[str, str]]
) -> dict[tuple[str, str], RunInfo]:
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            query("last_finished_runs"),
            ([source for source, _ in keys], [entity for _, entity in keys]),
        )
        rows = cur.fetchall()
    return {
        (row["source"], row["entity_type"]): RunInfo(
            run_id=str(row["run_id"]),
            action=row["action"],
            status=row["status"],
            started_at=row["timestamp"],
            finished_at=row["finished_at"],
            duration_seconds=_float(row["duration_seconds"]),
            records=row["records_processed"],
            error=row["error_details"],
        )
        for row in rows
    }


def _float(value: Decimal | float | None) -> float | None:
    return float(value) if value is not None else None


def read_live_runs(conn: psycopg.Connection[Any], cards: list[Card]) -> list[LiveRun]:
    """Runs going on now, with their committed progress. The cards say which sources to
    watch: the configured ones and any that has a sync_state row."""
    sources = tuple(s for s in SOURCES if any(card.source == s for card in cards))
    parents = parent_entities(sources)
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            query("live_runs"),
            {
                "children": [f"{source}/{child}" for source, child in parents],
                "parents": list(parents.values()),
                "namespace": LOCK_NAMESPACE,
            },
        )
        rows = cur.fetchall()
    runs = []
    for row in rows:
        metadata = row["metadata"] or {}
        estimated = metadata.get("estimated_total")
        runs.append(
            LiveRun(
                source=row["source"],
                entity=row["entity_type"],
                run_id=str(row["run_id"]),
                action=row["action"],
                started_at=row["timestamp"],
                records=row["records_processed"],
                pages=int(metadata.get("pages") or 0),
                estimated_total=int(estimated) if estimated is not None else None,
            )
        )
    return runs


def read_active_jobs(conn: psycopg.Connection[Any], shop: str) -> list[ActiveJob]:
    """A shop's sync jobs waiting (todo) or running (doing); `shop` is its jobs' argument."""
    rows = conn.execute(query("active_sync_jobs"), (SYNC_TASK, shop)).fetchall()
    return [ActiveJob(id=r[0], status=r[1], source=r[2] or "", entity=r[3]) for r in rows]


def read_finished_run_counts(conn: psycopg.Connection[Any]) -> list[tuple[str, str, str, int]]:
    """(source, entity, outcome, runs) for every finished run in sync_log."""
    rows = conn.execute(query("finished_run_counts")).fetchall()
    return [(source, entity, status, int(count)) for source, entity, status, count in rows]


def read_queue_job_counts(conn: psycopg.Connection[Any]) -> list[tuple[str, int]]:
    """(procrastinate status, jobs) for possync's queue."""
    rows = conn.execute(query("queue_job_counts"), (list(SYNC_QUEUES),)).fetchall()
    return [(status, int(count)) for status, count in rows]


def job_state_for(card: Card, jobs: list[ActiveJob]) -> str | None:
    """ "doing" when a running job syncs this card's entity, "todo" when a waiting job will,
    else None. A running whole-source job ("Sync everything") syncs one entity at a time: the
    card of the one it is on shows its live run; the others keep their own status."""
    found = None
    for job in jobs:
        if job.source != card.source or job.entity not in ("", card.sync_entity):
            continue
        if job.status == "doing" and job.entity == card.sync_entity:
            return "doing"
        if job.status == "todo":
            found = "todo"
    return found
