"""Which (source, entity) pairs are unhealthy right now, from PostgreSQL alone.

Staleness is the entity's health turning red (`possync.health.status`: its last success is
older than its red threshold, POSSYNC_HEALTH_THRESHOLDS else POSSYNC_HEALTH_YELLOW_HOURS) as of
the caller's clock, so it is found even when nothing ran at all: the scheduler or the machine
was down. An entity that never succeeded
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

from possync.config.settings import Settings
from possync.db.queries import query
from possync.health.status import RED, EntityStatus, read_entity_statuses
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
    rows = {status.key: status for status in read_entity_statuses(conn, settings, as_of=now)}
    for row in rows.values():
        if watched and row.source not in watched:
            continue
        problem = _classify(row, now, secrets)
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


def _classify(row: EntityStatus, now: datetime, secrets: tuple[str, ...]) -> EntityProblem | None:
    """A red entity's problem (its health is as of `now`); None when it is not red, or never
    synced but younger than its red threshold (it may still be on its first run)."""
    if row.health != RED:
        return None
    last_success = row.last_sync_time
    problem: ProblemKind
    detail: str | None = None
    if row.status == "failed":
        problem = "failed"
        detail = scrub(row.error_message, secrets) if row.error_message else None
        detail = detail or NO_ERROR_RECORDED
    elif last_success is None:
        created_at, stale_after = row.created_at, row.red_after
        if created_at is not None and stale_after is not None and now - created_at <= stale_after:
            return None
        problem = "never_synced"
    else:
        problem = "stale"
    return EntityProblem(
        source=row.source,
        entity=row.entity_type,
        problem=problem,
        detail=detail,
        last_sync_time=last_success,
        last_attempt_time=row.last_attempt_time,
    )


def _add_reported_failures(
    problems: dict[EntityKey, EntityProblem],
    rows: dict[EntityKey, EntityStatus],
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
            last_sync_time=row.last_sync_time if row else None,
            last_attempt_time=row.last_attempt_time if row else None,
        )


def _installed_at(conn: psycopg.Connection[Any]) -> datetime | None:
    row = conn.execute(query("installed_at")).fetchone()
    return row[0] if row else None


def last_success_times(
    conn: psycopg.Connection[Any], settings: Settings, keys: Iterable[EntityKey]
) -> dict[EntityKey, datetime | None]:
    """sync_state.last_sync_time for each key that has a row."""
    wanted = set(keys)
    if not wanted:
        return {}
    return {
        status.key: status.last_sync_time
        for status in read_entity_statuses(conn, settings)
        if status.key in wanted
    }
