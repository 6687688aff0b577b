"""Declarations of possync's data tables: typed columns taken from an API payload.

A `TableSpec` says which payload field fills which typed column; `possync.load.validate` turns a
payload into a row by it, and `possync.load.loader` builds its COPY and upsert SQL from it. Every
table also has `raw JSONB` (the whole payload), `synced_at` and `seen_run_id`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

ColumnKind = Literal["text", "numeric", "timestamptz", "bool", "bigint", "int", "date", "jsonb"]

# Extractors take the record (and, for child rows, the parent record).
Extractor = Callable[[dict[str, Any], dict[str, Any] | None], Any]


@dataclass(frozen=True)
class Column:
    name: str
    kind: ColumnKind
    path: str | None = None  # dotted payload path; defaults to the column name
    required: bool = False
    extract: Extractor | None = None  # computed columns (parent ids, sums, nested values)

    @property
    def payload_path(self) -> tuple[str, ...]:
        return tuple((self.path or self.name).split("."))


@dataclass(frozen=True)
class ChildSpec:
    """Rows nested in a parent payload (sale line items), replaced whole when the parent is."""

    table: TableSpec
    path: str  # key of the list in the parent payload
    parent_column: str  # the child's column holding the parent key
    parent_guard_column: str  # the child's copy of the parent's guard value (e.g. sale_version)


@dataclass(frozen=True)
class TableSpec:
    table: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ("id",)
    # Upserts never regress: a stored row is replaced only when this column is >= stored.
    guard: str | None = "version"
    children: tuple[ChildSpec, ...] = ()
    # Validation beyond types (e.g. line items against the sale's total): returns a reason.
    check: Callable[[dict[str, Any], dict[str, Any]], str | None] | None = None
    # Reference columns counted (not rejected) when they name a row that is not stored.
    references: tuple[tuple[str, str], ...] = ()  # (column, referenced table)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(name)


def parent_field(field: str) -> Extractor:
    """A child column copied from the parent payload (e.g. the sale id onto a line item)."""

    def extract(record: dict[str, Any], parent: dict[str, Any] | None) -> Any:
        return (parent or {}).get(field)

    return extract


DayKey = tuple[str, str]  # (location id, YYYY-MM-DD)


@dataclass(frozen=True)
class ReconcileSpec:
    """How one source's business days are totalled, on the POS side and in the database."""

    entity: str
    fields: tuple[str, ...]  # "count" first, then money fields
    locations_sql: str  # -> (id, time_zone)
    stored_days_sql: str  # params %(first)s, %(last)s -> (location, date, *fields)
    # The day and totals a POS record adds, or None when it does not count (not closed).
    day_of: Callable[[dict[str, Any], dict[str, str]], tuple[DayKey, dict[str, Any]] | None]


@dataclass(frozen=True)
class SourceTables:
    """One source's tables as the engine syncs them.

    `tables` maps entity → table in the order a historical import runs them (a table before
    those that refer to it); `child_entities` are written with their parent (sale line items
    with sales) and keep their own sync_state rows; `deep_pass_entities` are read in full by
    the nightly deep pass.
    """

    source: str
    tables: Mapping[str, TableSpec]
    child_entities: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    reconcile: ReconcileSpec | None = None
    deep_pass_entities: tuple[str, ...] = ()

    def children_of(self, entity: str) -> tuple[str, ...]:
        """Entities whose rows are written with `entity`."""
        return self.child_entities.get(entity, ())

    @property
    def entities(self) -> tuple[str, ...]:
        """Every entity with a sync_state row: synced ones and their children, in sync order."""
        return tuple(name for entity in self.tables for name in (entity, *self.children_of(entity)))

    def synced_with(self, entity: str) -> str | None:
        """The entity a sync of `entity` runs: itself, or the parent a child is written with;
        None when the source has no such entity."""
        if entity in self.tables:
            return entity
        for parent in self.tables:
            if entity in self.children_of(parent):
                return parent
        return None
