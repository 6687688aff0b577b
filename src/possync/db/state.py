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
            """INSERT INTO sync_state (source, entity_type) VALUES (%s, %s)
               ON CONFLICT (source, entity_type) DO NOTHING""",
            [(source, entity) for entity in entities],
        )


def read_stream_state(conn: psycopg.Connection[Any], source: str, entity: str) -> StreamState:
    row = conn.execute(
        """SELECT last_version, watermark, run_cursor FROM sync_state
           WHERE source = %s AND entity_type = %s""",
        (source, entity),
    ).fetchone()
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
        conn.execute(
            """INSERT INTO sync_log (run_id, source, entity_type, action, status, metadata)
               VALUES (%s, %s, %s, %s, 'started', '{}'::jsonb)""",
            (run_id, source, entity, action),
        )
        conn.execute(
            """INSERT INTO sync_state (source, entity_type, status, last_attempt_time, last_run_id)
               VALUES (%s, %s, 'running', now(), %s)
               ON CONFLICT (source, entity_type) DO UPDATE SET
                   status = 'running', last_attempt_time = now(),
                   last_run_id = EXCLUDED.last_run_id, updated_at = now()""",
            (source, entity, run_id),
        )


def advance_cursor(
    conn: psycopg.Connection[Any],
    *,
    source: str,
    entities: list[str],
    cursor: CursorAdvance,
) -> None:
    """Move the stored cursor forward (never back for versions and watermarks)."""
    conn.execute(
        """UPDATE sync_state SET
               last_version = GREATEST(last_version, %(version)s),
               watermark = GREATEST(watermark, %(watermark)s),
               run_cursor = %(run_cursor)s,
               updated_at = now()
           WHERE source = %(source)s AND entity_type = ANY(%(entities)s)""",
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
    conn.execute(
        "UPDATE sync_state SET records_total = %s WHERE source = %s AND entity_type = %s",
        (total, source, entity),
    )


def reset_cursor(conn: psycopg.Connection[Any], source: str, entities: list[str]) -> None:
    """A full refresh starts the walk over; the stored rows stay until overwritten."""
    conn.execute(
        """UPDATE sync_state SET last_version = NULL, watermark = NULL, run_cursor = NULL,
               updated_at = now()
           WHERE source = %s AND entity_type = ANY(%s)""",
        (source, entities),
    )


# A child entity's own row count where the run kept one, else the run's records.
RECORDS_PER_ENTITY = "coalesce((%s::jsonb ->> entity_type)::bigint, %s)"


def _records(counters: RunCounters) -> tuple[Jsonb, int]:
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
        f"""UPDATE sync_log SET records_processed = {RECORDS_PER_ENTITY}, metadata = %s,
               duration_seconds = EXTRACT(EPOCH FROM now() - "timestamp")
           WHERE run_id = %s AND source = %s AND entity_type = ANY(%s)""",
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
        f"""UPDATE sync_log SET status = %s, error_details = %s,
               records_processed = {RECORDS_PER_ENTITY}, metadata = %s,
               finished_at = clock_timestamp(),
               duration_seconds = EXTRACT(EPOCH FROM clock_timestamp() - "timestamp")
           WHERE run_id = %s AND source = %s AND entity_type = ANY(%s)""",
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
        conn.execute(
            """UPDATE sync_state SET status = 'failed', error_message = %s, updated_at = now()
               WHERE source = %s AND entity_type = ANY(%s)""",
            (error, source, entities),
        )
    else:
        conn.execute(
            """UPDATE sync_state SET status = 'success', error_message = NULL,
                   last_sync_time = clock_timestamp(), updated_at = now()
               WHERE source = %s AND entity_type = ANY(%s)""",
            (source, entities),
        )


ABANDONED_REASON = "the process running it ended without closing it (killed, e.g. out of memory)"


def close_abandoned_runs(conn: psycopg.Connection[Any], source: str, entities: list[str]) -> int:
    """Close `started` runs of entities whose lock the caller holds: no process is running
    them, so theirs was killed. sync_log says `abandoned`; a sync_state still `running`
    becomes `failed` with the reason. Returns how many runs were closed."""
    with conn.cursor() as cur:
        cur.execute(
            """UPDATE sync_log SET status = 'abandoned', finished_at = clock_timestamp(),
                   error_details = coalesce(error_details, %s)
               WHERE source = %s AND entity_type = ANY(%s) AND status = 'started'""",
            (ABANDONED_REASON, source, entities),
        )
        closed = max(cur.rowcount, 0)
        cur.execute(
            """UPDATE sync_state SET status = 'failed', updated_at = now(),
                   error_message = %s
               WHERE source = %s AND entity_type = ANY(%s) AND status = 'running'""",
            (f"the last run was abandoned: {ABANDONED_REASON}", source, entities),
        )
    return closed
