"""SQL lives in db/: named queries in `db/sql/queries/*.sql`, parsed once, each one used, and
none of the layers that read through them (the dashboard, the alerts, health, the heartbeats)
carries SQL of its own."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import possync
from possync.db.queries import QUERIES, parse_query_file, query, template

PACKAGE = Path(possync.__file__).parent
# Modules whose SQL moved to named queries. The analytics pages keep theirs (for now), as do
# the loader's generated per-table upserts and the tables' reconcile declarations.
NO_SQL_HERE = [
    *sorted((PACKAGE / "web").glob("*.py")),
    *sorted((PACKAGE / "notify").glob("*.py")),
    *sorted((PACKAGE / "health").glob("*.py")),
    PACKAGE / "jobs" / "heartbeat.py",
    PACKAGE / "jobs" / "sync_task.py",
    PACKAGE / "engine" / "quarantine.py",
    PACKAGE / "engine" / "run.py",
    PACKAGE / "cli" / "demo.py",
    *sorted((PACKAGE / "db").glob("*.py")),
]
SQL_STATEMENT = re.compile(
    r"\b(SELECT\b[\s\S]*\bFROM|INSERT\s+INTO|UPDATE\s+\w+\s[\s\S]*\bSET|DELETE\s+FROM)\b"
)
NAME_USE = re.compile(r"""\b(?:query|template)\(\s*"([a-z0-9_]+)"\s*\)""")


def test_a_query_file_is_split_at_its_headers() -> None:
    text = """-- What the file holds.

-- first_query --
-- What it is for,
-- on two lines.
SELECT 1

-- second_query --
UPDATE t SET a = %s
WHERE b = %s
"""
    assert parse_query_file(text, "x.sql") == {
        "first_query": "SELECT 1",
        "second_query": "UPDATE t SET a = %s\nWHERE b = %s",
    }


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("-- twice --\nSELECT 1\n-- twice --\nSELECT 2\n", "'twice' is defined twice"),
        ("-- empty --\n-- only a comment\n-- next --\nSELECT 1\n", "'empty' is empty"),
    ],
)
def test_a_broken_query_file_is_refused(text: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        parse_query_file(text, "x.sql")


def test_every_query_used_in_the_code_exists_and_every_query_is_used() -> None:
    used = {
        name
        for path in PACKAGE.rglob("*.py")
        for name in NAME_USE.findall(path.read_text(encoding="utf-8"))
    }
    assert used - QUERIES.keys() == set()
    assert QUERIES.keys() - used == set()
    assert query("entity_health") is QUERIES["entity_health"]
    assert "{membership}" in template("resolve_incident_entities").as_string(None)


@pytest.mark.parametrize("path", NO_SQL_HERE, ids=lambda path: str(path.relative_to(PACKAGE)))
def test_the_module_holds_no_sql_of_its_own(path: Path) -> None:
    found = [
        node.value.split("\n")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and SQL_STATEMENT.search(node.value)
    ]
    assert found == [], f"move this SQL to a named query in db/sql/queries/: {found}"


def test_sync_state_is_read_in_one_place() -> None:
    """People see sync_state through health.status alone (the engine reads its own cursor)."""
    readers = {
        name
        for name, text in QUERIES.items()
        if re.search(r"\b(FROM|JOIN)\s+sync_state\b|\bsync_health_at\(", text)
    }
    assert readers == {"entity_health", "stream_state"}
    callers = {
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if 'query("entity_health")' in path.read_text(encoding="utf-8")
    }
    assert callers == {"health/status.py"}
