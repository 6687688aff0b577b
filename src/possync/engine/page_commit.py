"""Committing one validated page: its rows, quarantined records, cursor and counters, in one
transaction (DESIGN invariant 1). The same code runs on the engine's connection (the thread
writer) or in the writer process on that process's own connection (see `writer`).

Everything a `PageJob` and a `WalkTarget` hold can be pickled: that is how pages reach a
writer process.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from typing import Any

import psycopg

from possync.db.state import RunCounters, advance_cursor, record_progress
from possync.load.loader import (
    mark_missing_as_deleted,
    quarantine_records,
    release_from_quarantine,
    upsert_page,
)
from possync.load.validate import ValidPage
from possync.sources.base import CursorAdvance
from possync.sources.registry import tables_for


@dataclass(frozen=True)
class WalkTarget:
    """Which run a page belongs to."""

    source: str
    entity: str
    run_id: uuid.UUID
    state_entities: tuple[str, ...]  # the entity and its children: their cursors move together


@dataclass
class PageJob:
    valid: ValidPage
    cursor: CursorAdvance
    counters: RunCounters  # as of this page: committed with it
    complete_snapshot: bool = False
    seen_keys: list[str] = field(default_factory=list)  # with complete_snapshot only
    # The snapshot refuses to mark more than this share of live rows deleted (None: --force).
    max_delete_ratio: float | None = None


BIGINT_MAX = 2**63 - 1


def storable_cursor(cursor: CursorAdvance, records: list[Any]) -> CursorAdvance:
    """The page's cursor as sync_state (BIGINT) can hold it. A version beyond 64 bits comes
    from a record that validation quarantines: the cursor takes the page's highest version
    that fits instead, so the rest of the page commits (that record is read again next run
    and stays in quarantine, its `times_seen` counting up)."""
    version = cursor.last_version
    if version is None or version <= BIGINT_MAX:
        return cursor
    fitting = [
        value
        for record in records
        if isinstance(record, dict)
        and type(value := record.get("version")) is int
        and 0 <= value <= BIGINT_MAX
    ]
    return replace(cursor, last_version=max(fitting) if fitting else None)


@dataclass
class WrittenTotals:
    """What only the writer learns, summed over the run so far."""

    unknown_references: int = 0
    deleted_by_snapshot: int = 0


class PageCommitter:
    """Writes pages of one run on one connection; the caller hands pages over in order."""

    def __init__(
        self,
        conn: psycopg.Connection[Any],
        target: WalkTarget,
        *,
        quarantine_in_use: bool,
        totals: WrittenTotals | None = None,
    ) -> None:
        self.conn = conn
        self.target = target
        self.spec = tables_for(target.source)[target.entity]
        # Releasing records from quarantine costs a query per page: only when there are any.
        self.quarantine_in_use = quarantine_in_use
        self.totals = totals or WrittenTotals()

    def commit(self, job: PageJob) -> RunCounters:
        """Write and commit one page; returns its counters as committed."""
        conn, target = self.conn, self.target
        write_result = upsert_page(conn, self.spec, job.valid)
        self.totals.unknown_references += write_result.unknown_references
        quarantine_records(conn, target.source, target.entity, job.valid.rejected, target.run_id)
        if job.valid.rejected:
            self.quarantine_in_use = True
        if self.quarantine_in_use:
            release_from_quarantine(conn, target.source, target.entity, job.valid.accepted_ids)
        if job.complete_snapshot:
            self.totals.deleted_by_snapshot += mark_missing_as_deleted(
                conn, self.spec, job.seen_keys, job.max_delete_ratio
            )
        counters = job.counters
        counters.unknown_references = self.totals.unknown_references
        counters.deleted_by_snapshot = self.totals.deleted_by_snapshot
        entities = list(target.state_entities)
        # Cursor, counters and COMMIT go out together: one round trip instead of three.
        with conn.pipeline():
            advance_cursor(conn, source=target.source, entities=entities, cursor=job.cursor)
            record_progress(
                conn,
                run_id=target.run_id,
                source=target.source,
                entities=entities,
                counters=counters,
            )
            conn.commit()
        return counters
