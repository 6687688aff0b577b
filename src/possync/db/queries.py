"""possync's SQL by name: the `.sql` files in `sql/queries/`, parsed once at import.

Each query starts with a `-- name --` line, then `--` lines saying what it is for, then the
SQL (procrastinate keeps its queries the same way). Parameters are psycopg's (`%(name)s`); a
query that needs identifiers (a schema, a table) is a template with `{name}` fields, used
through `template()` so the identifiers are quoted by `psycopg.sql`.
"""

from __future__ import annotations

import re
from importlib import resources
from typing import LiteralString

from psycopg import sql

# A header line, then its description: comment lines that are not themselves a header.
_HEADER = re.compile(r"^-- ([a-z0-9_]+) --\n(?:--(?! [a-z0-9_]+ --\n).*\n)*", re.MULTILINE)


def parse_query_file(text: str, origin: str) -> dict[str, LiteralString]:
    """ "-- name --" sections of one file → {name: SQL}; text before the first header is the
    file's own comment and is skipped."""
    found: dict[str, LiteralString] = {}
    headers = list(_HEADER.finditer(text))
    for header, following in zip(headers, [*headers[1:], None], strict=True):
        end = following.start() if following is not None else len(text)
        body = text[header.end() : end].strip()
        name = header[1]
        if not body:
            raise ValueError(f"{origin}: query {name!r} is empty")
        if name in found:
            raise ValueError(f"{origin}: query {name!r} is defined twice")
        # The files ship with possync: their text is as trusted as a literal in the code.
        found[name] = body
    return found


def load_queries() -> dict[str, LiteralString]:
    """Every named query shipped in the package; a name may be defined once only."""
    queries: dict[str, LiteralString] = {}
    folder = resources.files("possync.db") / "sql" / "queries"
    for entry in sorted(folder.iterdir(), key=lambda item: item.name):
        if not entry.name.endswith(".sql"):
            continue
        parsed = parse_query_file(entry.read_text(encoding="utf-8"), entry.name)
        clash = parsed.keys() & queries.keys()
        if clash:
            raise ValueError(f"{entry.name}: query {sorted(clash)[0]!r} is defined twice")
        queries.update(parsed)
    return queries


QUERIES = load_queries()


def query(name: str) -> LiteralString:
    """The SQL of one named query (KeyError names a query that does not exist)."""
    return QUERIES[name]


def template(name: str) -> sql.SQL:
    """A named query with `{identifier}` fields, ready for `.format(...)`."""
    return sql.SQL(QUERIES[name])
