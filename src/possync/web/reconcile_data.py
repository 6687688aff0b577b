"""The "Money check" the overview and `/api/status` show: per source, the latest
reconciliation (`sync_log` rows with action `reconcile`, written by `possync reconcile` and
the 02:00 deep pass) — when, how many outlet/location-days, OK or how many differences, and
the first few of them with the outlet or location's name."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row

from possync.config.settings import Settings
from possync.db.queries import query
from possync.engine.reconcile import describe_differences, spec_for
from possync.errors import ConfigError
from possync.sources.registry import SOURCES, configured_sources

FIRST_DIFFERENCES = 5


@dataclass(frozen=True)
class MoneyCheck:
    """A source's latest reconciliation, or `checked_at` None when it has never run."""

    source: str
    checked_at: datetime | None = None
    first_day: str | None = None
    last_day: str | None = None
    days_checked: int = 0
    difference_count: int = 0
    differences: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool | None:
        return None if self.checked_at is None else self.difference_count == 0

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "checked_at": self.checked_at.isoformat() if self.checked_at else None,
            "first_day": self.first_day,
            "last_day": self.last_day,
            "days_checked": self.days_checked,
            "ok": self.ok,
            "difference_count": self.difference_count,
            "differences": self.differences,
            "money_units": "each outlet's or location's currency",
        }


def _reconcilable(source: str) -> str | None:
    """The entity a source's reconciliation is logged under, or None if it has none."""
    try:
        return spec_for(source).entity
    except ConfigError:
        return None


def read_money_checks(conn: psycopg.Connection[Any], settings: Settings) -> list[MoneyCheck]:
    """One entry per configured source that can be reconciled, and per source that was (one
    query for every source: the shops page reads this for each shop)."""
    configured = configured_sources(settings)
    entities = {source: _reconcilable(source) for source in SOURCES}
    wanted = [(source, entity) for source, entity in entities.items() if entity is not None]
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            query("latest_reconciliations"),
            {
                "sources": [source for source, _ in wanted],
                "entities": [entity for _, entity in wanted],
                "first": FIRST_DIFFERENCES,
            },
        )
        found = {row["source"]: row for row in cur.fetchall()}
    checks = []
    for source, _ in wanted:
        row = found.get(source)
        if row is None:
            if source in configured:
                checks.append(MoneyCheck(source))
            continue
        differences = [d for d in row["differences"] if isinstance(d, dict)]
        describe_differences(conn, source, differences)
        checks.append(
            MoneyCheck(
                source=source,
                checked_at=row["finished_at"] or row["timestamp"],
                first_day=row["first_day"],
                last_day=row["last_day"],
                days_checked=int(row["records_processed"] or 0),
                difference_count=int(row["difference_count"]),
                differences=differences,
            )
        )
    return checks
