"""schema.sql is the schema the migrations build: a fresh, migrated database dumps to it exactly.

The file is for readers (one place to see every table, view and index as they end up) and for
review (a migration's effect shows as a diff of schema.sql). Regenerate: `python3 tasks.py schema`.
"""

from __future__ import annotations

import difflib

import pytest
from tasks import SCHEMA_SQL, dump_schema

from possync.db.connection import Database

FIX = "run `python3 tasks.py schema` (and commit src/possync/db/sql/schema.sql with the migration)"


def first_difference(expected: list[str], actual: list[str]) -> str:
    """Where `actual` first departs from `expected`, with a short diff around it."""
    index = next(
        (i for i, (want, got) in enumerate(zip(expected, actual, strict=False)) if want != got),
        min(len(expected), len(actual)),
    )
    want = expected[index] if index < len(expected) else "(end of file)"
    got = actual[index] if index < len(actual) else "(end of dump)"
    diff = difflib.unified_diff(expected, actual, "schema.sql", "migrated database", lineterm="")
    excerpt = "\n".join(list(diff)[:30])
    return f"line {index + 1}:\n  schema.sql: {want}\n  migrated:   {got}\n{excerpt}"


def test_migrated_database_equals_schema_sql(db: Database) -> None:
    expected = SCHEMA_SQL.read_text(encoding="utf-8").splitlines()
    actual = dump_schema(db.url).splitlines()
    if expected != actual:
        pytest.fail(
            f"schema.sql differs from a freshly migrated database at "
            f"{first_difference(expected, actual)}\n{FIX}",
            pytrace=False,
        )


def test_first_difference_names_the_line() -> None:
    found = first_difference(["a", "b", "c"], ["a", "x", "c"])
    assert found.startswith("line 2:\n  schema.sql: b\n  migrated:   x\n")
    assert "-b\n+x" in found
    shorter = first_difference(["a", "b"], ["a"])
    assert shorter.startswith("line 2:\n  schema.sql: b\n  migrated:   (end of dump)\n")
