"""Every table declaration in possync.tables matches the table the migrations create.

A TableSpec drives validation and the loader's COPY and upsert; the migrations create the
tables. This test reads information_schema of a freshly migrated database and names each
disagreement: a missing table or column, a different type, a different primary key, a guard or
parent column that does not exist, a column the loader would never fill.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest

from possync.db.connection import Database
from possync.sources.registry import tables_for
from possync.tables.spec import TableSpec

SOURCES = ("lightspeed", "square")

# A Column's kind -> information_schema.columns.data_type.
DATA_TYPES = {
    "text": "text",
    "numeric": "numeric",
    "timestamptz": "timestamp with time zone",
    "bool": "boolean",
    "bigint": "bigint",
    "int": "integer",
    "date": "date",
    "jsonb": "jsonb",
}
# Columns every data table has besides its declared ones, filled by the loader.
LOADER_COLUMNS = {"raw": "jsonb", "synced_at": "timestamp with time zone"}


@dataclass(frozen=True)
class StoredColumn:
    data_type: str
    nullable: bool
    default: str | None


def stored_tables(conn: psycopg.Connection[Any]) -> dict[str, dict[str, StoredColumn]]:
    """Table -> column -> its type, nullability and default, for the current schema."""
    tables: dict[str, dict[str, StoredColumn]] = {}
    rows = conn.execute(
        """SELECT c.table_name, c.column_name, c.data_type, c.is_nullable = 'YES', c.column_default
             FROM information_schema.columns c
             JOIN information_schema.tables t USING (table_schema, table_name)
            WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'"""
    )
    for table, column, data_type, nullable, default in rows:
        tables.setdefault(table, {})[column] = StoredColumn(data_type, nullable, default)
    return tables


def primary_keys(conn: psycopg.Connection[Any]) -> dict[str, set[str]]:
    keys: dict[str, set[str]] = {}
    rows = conn.execute(
        """SELECT k.table_name, k.column_name
             FROM information_schema.table_constraints c
             JOIN information_schema.key_column_usage k
               USING (constraint_schema, constraint_name, table_name)
            WHERE c.constraint_type = 'PRIMARY KEY' AND c.table_schema = current_schema()"""
    )
    for table, column in rows:
        keys.setdefault(table, set()).add(column)
    return keys


def declared_tables() -> Iterator[TableSpec]:
    """Every TableSpec of every source, child tables included."""

    def with_children(spec: TableSpec) -> Iterator[TableSpec]:
        yield spec
        for child in spec.children:
            yield from with_children(child.table)

    for source in SOURCES:
        for spec in tables_for(source).values():
            yield from with_children(spec)


def mismatches(
    spec: TableSpec, tables: dict[str, dict[str, StoredColumn]], keys: dict[str, set[str]]
) -> Iterator[str]:
    """Each way `spec` disagrees with the stored tables, as one line naming table and column."""
    name = spec.table
    stored = tables.get(name)
    if stored is None:
        yield f"{name}: declared, but the migrations create no such table"
        return
    for column in spec.columns:
        found = stored.get(column.name)
        if found is None:
            yield f"{name}.{column.name}: declared ({column.kind}), missing in the table"
        elif found.data_type != DATA_TYPES[column.kind]:
            yield f"{name}.{column.name}: declared {column.kind}, the table has {found.data_type}"
    for column, data_type in LOADER_COLUMNS.items():
        found = stored.get(column)
        if found is None or found.data_type != data_type:
            has = found.data_type if found else "nothing"
            yield f"{name}.{column}: the loader writes {data_type}, the table has {has}"
    for column, found in sorted(stored.items()):
        undeclared = column not in spec.column_names and column not in LOADER_COLUMNS
        if undeclared and not found.nullable and found.default is None:
            yield f"{name}.{column}: NOT NULL without a default, and no declaration fills it"
    if keys.get(name, set()) != set(spec.key):
        has = ", ".join(sorted(keys.get(name, set()))) or "none"
        yield f"{name}: declared key ({', '.join(spec.key)}), the primary key is ({has})"
    if spec.guard is not None and spec.guard not in spec.column_names:
        yield f"{name}: guard column {spec.guard} is not a declared column"
    for child in spec.children:
        for column in (child.parent_column, child.parent_guard_column):
            if column not in child.table.column_names:
                yield f"{child.table.table}.{column}: names the parent {name}, not declared"
    for column, referenced in spec.references:
        if column not in spec.column_names:
            yield f"{name}.{column}: a reference to {referenced}, not a declared column"
        if referenced not in tables:
            yield f"{name}.{column}: references {referenced}, which the migrations do not create"


def test_every_table_declaration_matches_the_migrated_table(db: Database) -> None:
    with db.connect() as conn:
        tables, keys = stored_tables(conn), primary_keys(conn)
    found = [line for spec in declared_tables() for line in mismatches(spec, tables, keys)]
    if found:
        pytest.fail(
            "possync.tables disagrees with the migrated schema:\n" + "\n".join(found),
            pytrace=False,
        )


def test_a_wrong_declaration_is_named(db: Database) -> None:
    spec = next(s for s in declared_tables() if s.table == "lightspeed_brands")
    with db.connect() as conn:
        conn.execute("ALTER TABLE lightspeed_brands ALTER COLUMN version TYPE numeric")
        conn.execute("ALTER TABLE lightspeed_brands DROP COLUMN name")
        conn.execute("ALTER TABLE lightspeed_brands ADD COLUMN extra text NOT NULL")
        conn.execute("ALTER TABLE lightspeed_brands DROP CONSTRAINT lightspeed_brands_pkey")
        tables, keys = stored_tables(conn), primary_keys(conn)
        conn.rollback()
    assert sorted(mismatches(spec, tables, keys)) == [
        "lightspeed_brands.extra: NOT NULL without a default, and no declaration fills it",
        "lightspeed_brands.name: declared (text), missing in the table",
        "lightspeed_brands.version: declared bigint, the table has numeric",
        "lightspeed_brands: declared key (id), the primary key is (none)",
    ]
