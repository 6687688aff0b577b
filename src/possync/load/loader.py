"""Writing validated pages to PostgreSQL: one COPY into a staging table and one
`INSERT … ON CONFLICT` per table and page, never row by row. Nothing here touches HTTP.

The caller owns the transaction: the engine commits a page's rows together with its cursor and
counters (invariant 1). Upserts never regress: a stored row is replaced only by a payload whose
guard column (`version`, or `updated_at` where the source has none) is at least the stored one.
Child rows (sale line items) are replaced whole, and only for parents whose write won.
"""

from __future__ import annotations

import weakref
from collections import Counter
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import psycopg
from psycopg import sql

from possync.errors import PossyncError
from possync.load.json_values import is_exact, storable_json
from possync.load.validate import Rejected, ValidPage
from possync.tables.spec import TableSpec

_staged: weakref.WeakKeyDictionary[psycopg.Connection[Any], set[str]] = weakref.WeakKeyDictionary()


@dataclass
class PageWrite:
    written: int = 0  # parent rows inserted or updated
    children_written: int = 0
    unknown_references: int = 0


def stage_name(table: str) -> str:
    return f"possync_stage_{table}"


# Session temp tables live in local buffers (8 MB by default): a page of sales with their
# line items overflows that and spills to disk. Must be set before the first temp table.
STAGE_TEMP_BUFFERS = "64MB"
STAGE_WORK_MEM = "64MB"


def _ensure_stage(conn: psycopg.Connection[Any], table: str) -> sql.Identifier:
    """A session temp table shaped like `table`, emptied at every commit. Its `raw` is text:
    the JSON is parsed once, by the upsert's cast, not stored twice as JSONB."""
    name = stage_name(table)
    created = _staged.get(conn)
    if created is None:
        created = _staged[conn] = set()
        conn.execute(sql.SQL("SET temp_buffers = {}").format(sql.Literal(STAGE_TEMP_BUFFERS)))
        # DISTINCT ON sorts a page's rows, raw JSON included: keep that sort in memory.
        conn.execute(sql.SQL("SET work_mem = {}").format(sql.Literal(STAGE_WORK_MEM)))
    if name not in created:
        conn.execute(
            sql.SQL(
                "CREATE TEMP TABLE IF NOT EXISTS {} (LIKE {} INCLUDING DEFAULTS) "
                "ON COMMIT DELETE ROWS"
            ).format(sql.Identifier(name), sql.Identifier(table))
        )
        conn.execute(
            sql.SQL("ALTER TABLE {} ALTER COLUMN raw TYPE text").format(sql.Identifier(name))
        )
        created.add(name)
    return sql.Identifier(name)


def _copy_rows(conn: psycopg.Connection[Any], spec: TableSpec, data: bytes) -> sql.Identifier:
    """COPY a page's rows into the table's staging table; return the staging table."""
    stage = _ensure_stage(conn, spec.table)
    _copy_into(conn, stage, spec, data)
    return stage


def _copy_into(
    conn: psycopg.Connection[Any],
    target: sql.Identifier,
    spec: TableSpec,
    data: bytes,
) -> None:
    """Stream one COPY text buffer (see possync.load.copy_text) into `target`."""
    columns = [*spec.column_names, "raw"]
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        target, sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    with conn.cursor() as cur, cur.copy(statement) as copy:
        copy.write(data)


def _upsert(
    conn: psycopg.Connection[Any], spec: TableSpec, stage: sql.Identifier, *, keep_latest: bool
) -> int:
    """INSERT … SELECT DISTINCT ON (key) … ON CONFLICT DO UPDATE … WHERE guard >= stored."""
    table = sql.Identifier(spec.table)
    columns = [*spec.column_names, "raw"]
    key = sql.SQL(", ").join(map(sql.Identifier, spec.key))
    column_list = sql.SQL(", ").join(map(sql.Identifier, columns))
    updates: list[sql.Composable] = [
        sql.SQL("{} = EXCLUDED.{}").format(sql.Identifier(c), sql.Identifier(c))
        for c in columns
        if c not in spec.key
    ]
    updates.append(sql.SQL("synced_at = now()"))
    if "updated_at" not in spec.column_names:
        updates.append(sql.SQL("updated_at = now()"))
    order: sql.Composable = sql.SQL("ORDER BY {}").format(key)
    if keep_latest and spec.guard:
        order = sql.SQL("ORDER BY {}, {} DESC NULLS LAST").format(key, sql.Identifier(spec.guard))
    # Unguarded tables (full snapshots) skip rows that did not change, so a run with nothing
    # new writes nothing; a row that reappears after being marked deleted comes back.
    guard: sql.Composable = sql.SQL(
        " WHERE {t}.raw IS DISTINCT FROM EXCLUDED.raw OR {t}.deleted_at IS NOT NULL"
    ).format(t=table)
    if spec.guard:
        guard = sql.SQL(" WHERE {t}.{g} IS NULL OR {t}.{g} <= EXCLUDED.{g}").format(
            t=table, g=sql.Identifier(spec.guard)
        )
    selected = sql.SQL(", ").join(
        sql.SQL("raw::jsonb") if c == "raw" else sql.Identifier(c) for c in columns
    )
    statement = sql.SQL(
        "INSERT INTO {table} ({columns}) SELECT DISTINCT ON ({key}) {selected} FROM {stage} "
        "{order} ON CONFLICT ({key}) DO UPDATE SET {updates}{guard}"
    ).format(
        table=table,
        columns=column_list,
        selected=selected,
        key=key,
        stage=stage,
        order=order,
        updates=sql.SQL(", ").join(updates),
        guard=guard,
    )
    with conn.cursor() as cur:
        cur.execute(statement)
        return max(cur.rowcount, 0)


def upsert_page(conn: psycopg.Connection[Any], spec: TableSpec, page: ValidPage) -> PageWrite:
    """Load one validated page: parents, then their children where the parent's write won."""
    result = PageWrite()
    if not page.count(spec.table):
        return result
    result.unknown_references = count_unknown_references(conn, page)
    if _all_new(conn, spec, page):
        try:
            with conn.transaction():  # a savepoint inside the page's transaction
                inserted = _insert_new_page(conn, spec, page)
            inserted.unknown_references = result.unknown_references
            return inserted
        except psycopg.errors.UniqueViolation:
            pass  # a child key is stored under another parent: take the upsert path
    stage = _copy_rows(conn, spec, page.copy_data[spec.table])
    result.written = _upsert(conn, spec, stage, keep_latest=True)
    for child in spec.children:
        child_spec = child.table
        parent_key = sql.Identifier(spec.key[0])
        parent_table = sql.Identifier(spec.table)
        child_table = sql.Identifier(child_spec.table)
        guard_match: sql.Composable = sql.SQL("")
        if spec.guard:
            guard_match = sql.SQL(" AND p.{g} = s.{g}").format(g=sql.Identifier(spec.guard))
        # Remove the children of every parent whose staged version is now the stored one.
        conn.execute(
            sql.SQL(
                "DELETE FROM {child} c USING {parent} p, {stage} s "
                "WHERE c.{fk} = s.{pk} AND p.{pk} = s.{pk}{guard}"
            ).format(
                child=child_table,
                parent=parent_table,
                stage=stage,
                fk=sql.Identifier(child.parent_column),
                pk=parent_key,
                guard=guard_match,
            )
        )
        if not page.count(child_spec.table):
            continue
        child_stage = _copy_rows(conn, child_spec, page.copy_data[child_spec.table])
        if spec.guard:
            # Keep only children staged with the parent version that won.
            conn.execute(
                sql.SQL(
                    "DELETE FROM {cs} c WHERE NOT EXISTS (SELECT 1 FROM {parent} p "
                    "WHERE p.{pk} = c.{fk} AND p.{g} = c.{cg})"
                ).format(
                    cs=child_stage,
                    parent=parent_table,
                    pk=parent_key,
                    fk=sql.Identifier(child.parent_column),
                    g=sql.Identifier(spec.guard),
                    cg=sql.Identifier(child.parent_guard_column),
                )
            )
        result.children_written += _upsert(conn, child_spec, child_stage, keep_latest=False)
    return result


def count_unknown_references(conn: psycopg.Connection[Any], page: ValidPage) -> int:
    """Rows referring (by outlet, product, …) to a row that is not stored: counted, not
    rejected. One query per page; each distinct id is looked up once, weighted by how many
    rows use it."""
    parts: list[sql.Composable] = []
    params: list[list[Any]] = []
    for (_table, _column, referenced), values in page.references.items():
        uses = Counter(values)
        parts.append(
            sql.SQL(
                "(SELECT coalesce(sum(v.uses), 0) FROM unnest(%s::text[], %s::int[]) "
                "AS v(id, uses) WHERE NOT EXISTS (SELECT 1 FROM {} r WHERE r.id = v.id))"
            ).format(sql.Identifier(referenced))
        )
        params.extend([list(uses), list(uses.values())])
    if not parts:
        return 0
    row = conn.execute(sql.SQL("SELECT {}").format(sql.SQL(" + ").join(parts)), params).fetchone()
    return int(row[0]) if row else 0


def _all_new(conn: psycopg.Connection[Any], spec: TableSpec, page: ValidPage) -> bool:
    """Whether a page can skip staging: one key column, no key twice in the page and none
    stored yet (the usual case of a historical import). Nothing stored means nothing to
    guard against, so the invariants hold as they do for the upsert."""
    if len(spec.key) != 1:
        return False
    keys = page.accepted_ids
    if len(set(keys)) != len(keys):
        return False
    row = conn.execute(
        sql.SQL("SELECT EXISTS (SELECT 1 FROM {} WHERE {} = ANY(%s))").format(
            sql.Identifier(spec.table), sql.Identifier(spec.key[0])
        ),
        (keys,),
    ).fetchone()
    return not (row and row[0])


def _insert_new_page(conn: psycopg.Connection[Any], spec: TableSpec, page: ValidPage) -> PageWrite:
    """COPY a page of new rows (and their children) straight into their tables."""
    result = PageWrite()
    _copy_into(conn, sql.Identifier(spec.table), spec, page.copy_data[spec.table])
    result.written = page.count(spec.table)
    for child in spec.children:
        count = page.count(child.table.table)
        if not count:
            continue
        table = sql.Identifier(child.table.table)
        _copy_into(conn, table, child.table, page.copy_data[child.table.table])
        result.children_written += count
    return result


class DeleteGuardError(PossyncError):
    """A snapshot would mark more of a table deleted than POSSYNC_MAX_DELETE_RATIO allows."""


def mark_missing_as_deleted(
    conn: psycopg.Connection[Any],
    spec: TableSpec,
    seen_keys: list[str],
    max_ratio: float | None = None,
) -> int:
    """After a complete snapshot walk: rows the walk did not see are gone at the source.

    With `max_ratio`, refuses (DeleteGuardError, before any row changes) when the rows to
    mark are more than that share of the live rows: an answer that looked complete but was
    not must not empty a table. The caller rolls the page back."""
    if max_ratio is not None:
        _check_delete_ratio(conn, spec, seen_keys, max_ratio)
    with conn.cursor() as cur:
        cur.execute(
            sql.SQL(
                "UPDATE {} SET deleted_at = now(), synced_at = now() "
                "WHERE deleted_at IS NULL AND NOT ({} = ANY(%s))"
            ).format(sql.Identifier(spec.table), sql.Identifier(spec.key[0])),
            (seen_keys,),
        )
        return max(cur.rowcount, 0)


def _check_delete_ratio(
    conn: psycopg.Connection[Any], spec: TableSpec, seen_keys: list[str], max_ratio: float
) -> None:
    row = conn.execute(
        sql.SQL(
            "SELECT count(*), count(*) FILTER (WHERE NOT ({} = ANY(%s))) "
            "FROM {} WHERE deleted_at IS NULL"
        ).format(sql.Identifier(spec.key[0]), sql.Identifier(spec.table)),
        (seen_keys,),
    ).fetchone()
    live, missing = (int(row[0]), int(row[1])) if row else (0, 0)
    if missing and missing > live * max_ratio:
        raise DeleteGuardError(
            f"{spec.table}: the source's complete list lacks {missing} of the {live} stored "
            f"rows; marking them deleted is over POSSYNC_MAX_DELETE_RATIO={max_ratio:g}, so "
            "nothing was changed: check the source, then rerun with --force if they are gone"
        )


def quarantine_records(
    conn: psycopg.Connection[Any],
    source: str,
    entity: str,
    rejected: list[Rejected],
    run_id: UUID | None,
) -> None:
    """Store rejected records with their reason; a record seen again updates its row."""
    if not rejected:
        return
    with conn.cursor() as cur:
        cur.executemany(
            """INSERT INTO sync_quarantine
                   (source, entity_type, record_id, reason, raw, raw_exact, run_id)
               VALUES (%s, %s, %s, %s, %s::jsonb, %s, %s)
               ON CONFLICT (source, entity_type, record_id) DO UPDATE SET
                   reason = EXCLUDED.reason, raw = EXCLUDED.raw, raw_exact = EXCLUDED.raw_exact,
                   run_id = coalesce(EXCLUDED.run_id, sync_quarantine.run_id),
                   last_seen = now(), times_seen = sync_quarantine.times_seen + 1""",
            [
                (
                    source,
                    entity,
                    r.record_id,
                    r.reason,
                    storable_json(r.raw),
                    is_exact(r.raw),
                    run_id,
                )
                for r in rejected
            ],
        )


def has_quarantined(conn: psycopg.Connection[Any], source: str, entity: str) -> bool:
    row = conn.execute(
        "SELECT EXISTS (SELECT 1 FROM sync_quarantine WHERE source = %s AND entity_type = %s)",
        (source, entity),
    ).fetchone()
    return bool(row and row[0])


def release_from_quarantine(
    conn: psycopg.Connection[Any], source: str, entity: str, accepted_ids: list[str]
) -> int:
    """A record that now arrives valid leaves quarantine."""
    if not accepted_ids:
        return 0
    with conn.cursor() as cur:
        cur.execute(
            """DELETE FROM sync_quarantine
               WHERE source = %s AND entity_type = %s AND record_id = ANY(%s)""",
            (source, entity, accepted_ids),
        )
        return max(cur.rowcount, 0)
