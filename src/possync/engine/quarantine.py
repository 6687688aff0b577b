"""Quarantine as a safety net: the ratio that stops a run, and reading quarantined records
again (`possync sync --retry-quarantined`).

A run stops when more than POSSYNC_QUARANTINE_MAX_RATIO of its records (after the first
QUARANTINE_GRACE_RECORDS) fail validation. It stops *before* the page that crosses the line
is written: that page's cursor does not move, so a rerun after a fix, or with --force, reads
the same records again. Only the stopping page's rejected records are stored, to be seen.

Retrying re-validates the payloads stored in sync_quarantine (a POS API cannot be asked for
an arbitrary record of every entity by id; the stored payload is exactly what was received).
It helps after possync's validation or schema changed; a record the POS itself must correct
comes back through a normal sync once it changes. Payloads whose raw could not be kept
exactly (an unreadable value had a stand-in, see possync.load.json_values) are not retried.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg

from possync.config.settings import Settings
from possync.db.locks import try_lock_entity, unlock_entity
from possync.db.queries import query
from possync.db.state import RunCounters
from possync.errors import PossyncError
from possync.load.loader import quarantine_records, release_from_quarantine, upsert_page
from possync.load.validate import Rejected, ValidPage, validate_page
from possync.sources.registry import tables_for

QUARANTINE_GRACE_RECORDS = 100
RETRY_BATCH = 500


class QuarantineStop(PossyncError):
    """Too many records failed validation; `rejected` are the stopping page's."""

    def __init__(self, message: str, rejected: list[Rejected]) -> None:
        super().__init__(message)
        self.rejected = rejected


def check_quarantine_ratio(
    settings: Settings, force: bool, counters: RunCounters, page: ValidPage
) -> None:
    max_ratio = settings.quarantine_max_ratio
    if force or counters.records <= QUARANTINE_GRACE_RECORDS:
        return
    if counters.quarantined > counters.records * max_ratio:
        raise QuarantineStop(
            f"{counters.quarantined} of {counters.records} records failed validation "
            f"(over POSSYNC_QUARANTINE_MAX_RATIO={max_ratio}); they are in sync_quarantine and "
            "the cursor stays before them: inspect them, fix, then rerun (or rerun with --force "
            "to load the rest anyway)",
            page.rejected,
        )


@dataclass
class RetryResult:
    source: str
    entity: str
    retried: int = 0
    released: int = 0  # now valid: loaded (where newer than what is stored) and released
    skipped: str | None = None  # why the entity was not retried

    @property
    def remaining(self) -> int:
        return self.retried - self.released


def retry_quarantined(
    conn: psycopg.Connection[Any], source: str, entities: list[str]
) -> list[RetryResult]:
    """Re-validate the quarantined records of each entity; load and release those that now
    pass. Each entity under its sync lock, one transaction per batch."""
    results = []
    for entity in entities:
        result = RetryResult(source, entity)
        results.append(result)
        if not try_lock_entity(conn, source, entity):
            conn.commit()
            result.skipped = f"another {source} {entity} sync is running"
            continue
        try:
            _retry_entity(conn, result)
        finally:
            conn.rollback()
            unlock_entity(conn, source, entity)
            conn.commit()
    return results


def _retry_entity(conn: psycopg.Connection[Any], result: RetryResult) -> None:
    spec = tables_for(result.source)[result.entity]
    after = ""
    while True:
        rows = conn.execute(
            query("quarantined_payloads"),
            (result.source, result.entity, after, RETRY_BATCH),
        ).fetchall()
        if not rows:
            return
        after = rows[-1][0]
        page = validate_page(spec, [raw for _, raw in rows])
        upsert_page(conn, spec, page)
        result.retried += len(rows)
        result.released += release_from_quarantine(
            conn, result.source, result.entity, page.accepted_ids
        )
        # Still failing: the reason as today's validation words it.
        quarantine_records(conn, result.source, result.entity, page.rejected, None)
        conn.commit()
