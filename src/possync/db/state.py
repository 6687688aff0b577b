"""sync_state and sync_log: where each (source, entity) stands, and the history of runs.

The functions take a connection and never commit: the engine decides what commits together
(a page's rows, its cursor advance and the run's counters share one transaction).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any
from uuid import UUID

import psycopg
from psycopg.types.json import Jsonb

from possync.db.queries import query
from possync.sources.base import CursorAdvance, StreamState


@dataclass
class RunCounters:
    records: int = 0
    pages: int = 0
    requests: int = 0
    retries: int = 0
    quarantined: int = 0
    unknown_references: int = 0
    rate_limited: int = 0
    waited_seconds: float = 0.0
    estimated_total: int | None = None
    deleted_by_snapshot: int = 0
    # Rows written per child entity (sale line items): a child's sync_log row counts its
    # own rows, not its parents'.
    child_records: dict[str, int] = field(default_factory=dict)

    def snapshot(self) -> RunCounters:
        """A copy that later pages do not change (for the page that carries it)."""
        return replace(self, child_records=dict(self.child_records))

    def metadata(self) -> dict[str, Any]:
        return {
            "pages": self.pages,
            "requests": self.requests,
            "retries": self.retries,
            "quarantined": self.quarantined,
            "unknown_references": self.unknown_references,
            "rate_limited": self.rate_limited,
            "waited_seconds": round(self.waited_seconds, 3),
            "estimated_total": self.estimated_total,
            "deleted_by_snapshot": self.deleted_by_snapshot,
        }


def ensure_state_rows(conn: psycopg.Connection[Any], source: str, entities: list[str]) -> None:
    """A never_synced row per entity, so the dashboard shows what has not run yet."""
    with conn.cursor() as cur:
        cur.executemany(
            query("ensure_state_row"),
            [(source, entity) for entity in entities],
        )


def read_stream_state(conn: psycopg.Connection[Any], source: str, entity: str) -> StreamState:
    row = conn.execute(query("stream_state"), (source, entity)).fetchone()
    if row is None:
        return StreamState()
    return StreamState(last_version=row[0], watermark=row[1], run_cursor=row[2])


def begin_run(
    conn: psycopg.Connection[Any],
    *,
    run_id: UUID,
    source: str,
    entities: list[str],
    action: str,
) -> None:
    """sync_log rows `started`; sync_state `running` for the entity and its child entities."""
    for entity in entities:
        conn.execute(query("log_run_started"), (run_id, source, entity, action))
        conn.execute(query("state_running"), (source, entity, run_id))


def advance_cursor(
    conn: psycopg.Connection[Any],
    *,
    source: str,
    entities: list[str],
    cursor: CursorAdvance,
) -> None:
    """Move the stored cursor forward (never back for versions and watermarks)."""
    conn.execute(
        query("advance_cursor"),
        {
            "version": cursor.last_version,
            "watermark": cursor.watermark,
            "run_cursor": Jsonb(cursor.run_cursor) if cursor.run_cursor is not None else None,
            "source": source,
            "entities": entities,
        },
    )


def set_record_total(conn: psycopg.Connection[Any], source: str, entity: str, total: int) -> None:
    """Rows stored for an entity (deleted ones included), shown on the dashboard cards."""
    conn.execute(query("set_record_total"), (total, source, entity))


def reset_cursor(conn: psycopg.Connection[Any], source: str, entities: list[str]) -> None:
    """A full refresh starts the walk over; the stored rows stay until overwritten."""
    conn.execute(query("reset_cursor"), (source, entities))


def _records(counters: RunCounters) -> tuple[Jsonb, int]:
    """A child entity's own row count where the run kept one, else the run's records."""
    return Jsonb(counters.child_records), counters.records


def record_progress(
    conn: psycopg.Connection[Any],
    *,
    run_id: UUID,
    source: str,
    entities: list[str],
    counters: RunCounters,
) -> None:
    conn.execute(
        query("log_run_progress"),
        (*_records(counters), Jsonb(counters.metadata()), run_id, source, entities),
    )


def finish_run(
    conn: psycopg.Connection[Any],
    *,
    run_id: UUID,
    source: str,
    entities: list[str],
    counters: RunCounters,
    error: str | None,
) -> None:
    """Close the run: sync_log completed/failed; sync_state success (with the time) or failed."""
    status = "failed" if error else "completed"
    conn.execute(
        query("log_run_finished"),
        (
            status,
            error,
            *_records(counters),
            Jsonb(counters.metadata()),
            run_id,
            source,
            entities,
        ),
    )
    if error:
        conn.execute(query("state_failed"), (error, source, entities))
    else:
        conn.execute(query("state_succeeded"), (source, entities))


ABANDONED_REASON = "the process running it ended without closing it (killed, e.g. out of memory)"


def close_abandoned_runs(conn: psycopg.Connection[Any], source: str, entities: list[str]) -> int:
    """Close `started` runs of entities whose lock the caller holds: no process is running
    them, so theirs was killed. sync_log says `abandoned`; a sync_state still `running`
    becomes `failed` with the reason. Returns how many runs were closed."""
    with conn.cursor() as cur:
        cur.execute(query("log_runs_abandoned"), (ABANDONED_REASON, source, entities))
        closed = max(cur.rowcount, 0)
        cur.execute(
            query("state_abandoned"),
            (f"the last run was abandoned: {ABANDONED_REASON}", source, entities),
        )
    return closed
