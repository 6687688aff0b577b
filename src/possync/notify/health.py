"""Which (source, entity) pairs are unhealthy right now, from PostgreSQL alone.

Staleness is judged from `sync_state.last_sync_time` against the entity's red threshold
(POSSYNC_HEALTH_THRESHOLDS, else POSSYNC_HEALTH_YELLOW_HOURS), so it is found even when
nothing ran at all: the scheduler or the machine was down. An entity that never succeeded
counts from its sync_state row's creation, and a configured entity with no row at all from
possync's installation (the first migration).

Each entity has one problem at most, the worst: failed, then never synced, then stale. So a
failing entity that never synced is one failure, not a failure plus a staleness alert.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

import psycopg
from psycopg.rows import dict_row

from possync.config.settings import Settings
from possync.health.thresholds import thresholds_for
from possync.notify.model import EntityKey, EntityProblem, ProblemKind, SyncReportLike
from possync.notify.scrub import scrub, secret_values
from possync.sources.registry import configured_sources, entities_for

NO_ERROR_RECORDED = "the run failed without an error message"


def configured_entities(settings: Settings) -> list[EntityKey]:
    """Every (source, entity) the configured sources sync."""
    return [
        (source, entity)
        for source in configured_sources(settings)
        for entity in entities_for(source)
    ]


def find_sync_problems(
    conn: psycopg.Connection[Any],
    settings: Settings,
    now: datetime,
    *,
    report: SyncReportLike | None = None,
    expected: Iterable[EntityKey] | None = None,
) -> list[EntityProblem]:
    """The unhealthy entities, ordered by source then entity.

    Only configured sources are watched (all of sync_state when none is configured, so a
    machine that only sends alerts still watches everything). `expected` lists the entities
    that must exist; by default every entity of every configured source. A failed result in
    `report` counts even if the engine could not record it in sync_state.
    """
    secrets = secret_values(settings)
    watched = set(configured_sources(settings))
    if expected is None:
        expected = configured_entities(settings) if watched else []
    problems: dict[EntityKey, EntityProblem] = {}
    rows = _read_sync_state(conn)
    for row in rows.values():
        if watched and row["source"] not in watched:
            continue
        problem = _classify(row, now, red_after(settings, *key_of(row)), secrets)
        if problem is not None:
            problems[problem.key] = problem
    installed_at = _installed_at(conn) or now
    for source, entity in expected:
        stale_after = red_after(settings, source, entity)
        if (source, entity) not in rows and now - installed_at > stale_after:
            problems[(source, entity)] = EntityProblem(source, entity, "never_synced", None, None)
    if report is not None:
        _add_reported_failures(problems, rows, report, secrets)
    return [problems[key] for key in sorted(problems)]


def red_after(settings: Settings, source: str, entity: str) -> timedelta:
    """How old an entity's last success may be before it is red (and alerted)."""
    return timedelta(hours=thresholds_for(settings, source, entity).yellow_hours)


def key_of(row: dict[str, Any]) -> EntityKey:
    return (row["source"], row["entity_type"])


def _classify(
    row: dict[str, Any], now: datetime, stale_after: timedelta, secrets: tuple[str, ...]
) -> EntityProblem | None:
    last_success: datetime | None = row["last_sync_time"]
    problem: ProblemKind
    detail: str | None = None
    if row["status"] == "failed":
        problem = "failed"
        detail = scrub(row["error_message"], secrets) if row["error_message"] else None
        detail = detail or NO_ERROR_RECORDED
    elif last_success is None:
        if now - row["created_at"] <= stale_after:
            return None
        problem = "never_synced"
    elif now - last_success > stale_after:
        problem = "stale"
    else:
        return None
    return EntityProblem(
        source=row["source"],
        entity=row["entity_type"],
        problem=problem,
        detail=detail,
        last_sync_time=last_success,
        last_attempt_time=row["last_attempt_time"],
    )


def _add_reported_failures(
    problems: dict[EntityKey, EntityProblem],
    rows: dict[EntityKey, dict[str, Any]],
    report: SyncReportLike,
    secrets: tuple[str, ...],
) -> None:
    for result in report.results:
        key = (result.source, result.entity)
        known = problems.get(key)
        if result.status != "failed" or (known is not None and known.problem == "failed"):
            continue
        row = rows.get(key)
        problems[key] = EntityProblem(
            source=result.source,
            entity=result.entity,
            problem="failed",
            detail=scrub(result.error, secrets) if result.error else NO_ERROR_RECORDED,
            last_sync_time=row["last_sync_time"] if row else None,
            last_attempt_time=row["last_attempt_time"] if row else None,
        )


def _read_sync_state(conn: psycopg.Connection[Any]) -> dict[EntityKey, dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            """SELECT source, entity_type, status, last_sync_time, last_attempt_time,
                      error_message, created_at
               FROM sync_state ORDER BY source, entity_type"""
        )
        return {(row["source"], row["entity_type"]): row for row in cur.fetchall()}


def _installed_at(conn: psycopg.Connection[Any]) -> datetime | None:
    row = conn.execute("SELECT min(applied_at) FROM possync_migrations").fetchone()
    return row[0] if row else None


def last_success_times(
    conn: psycopg.Connection[Any], keys: Iterable[EntityKey]
) -> dict[EntityKey, datetime | None]:
    """sync_state.last_sync_time for each key that has a row."""
    wanted = list(keys)
    if not wanted:
        return {}
    rows = conn.execute(
        """SELECT source, entity_type, last_sync_time FROM sync_state
           WHERE (source, entity_type) IN (SELECT * FROM unnest(%s::text[], %s::text[]))""",
        ([source for source, _ in wanted], [entity for _, entity in wanted]),
    ).fetchall()
    return {(source, entity): last for source, entity, last in rows}
