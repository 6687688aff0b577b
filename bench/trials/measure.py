"""Counting what a database got wrong against the simulator's truth: records lost, duplicated,
and anything else that differs. Counted, not just asserted, so the full form can report them.

- lost: a truth record (alive or deleted) that is not stored, a malformed record that is in
  neither its table nor quarantine;
- duplicated: a source id stored in more than one row, a child row of an older version of its
  parent (a line the sale no longer has, counted twice), a sale or order counted more than
  once in a day;
- mismatched: an id the truth does not know, a wrong deleted state, an outlet-day whose money
  differs, a child without its parent.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import psycopg
from psycopg import sql

from bench.trials import square_truth, truth
from possync.sources.registry import tables_for
from possync.tables.spec import ChildSpec, TableSpec

CHILD_ENTITIES = {"sale_line_items", "sale_payments", "order_line_items"}
NO_ID = "(no id) "  # how validation names a quarantined record without a key


@dataclass
class Tally:
    """What one comparison found; zero everywhere is the only good result."""

    checked: int = 0
    lost: int = 0
    duplicated: int = 0
    mismatched: int = 0
    details: list[str] = field(default_factory=list)

    def add(self, other: Tally) -> None:
        self.checked += other.checked
        self.lost += other.lost
        self.duplicated += other.duplicated
        self.mismatched += other.mismatched
        self.details.extend(other.details)

    @property
    def clean(self) -> bool:
        return self.lost == self.duplicated == self.mismatched == 0

    def note(self, kind: str, count: int, what: str) -> None:
        if count <= 0:
            return
        setattr(self, kind, getattr(self, kind) + count)
        self.details.append(f"{kind} {count}: {what}")


def _children(source: str) -> list[tuple[TableSpec, ChildSpec]]:
    """(parent table, child) for every child table of a source, from the declarations."""
    return [(spec, child) for spec in tables_for(source).values() for child in spec.children]


def check_children(conn: psycopg.Connection[Any], source: str) -> Tally:
    """Children against their stored parent: valid at any instant, even right after a crash
    (a page's parents and children commit together). A child row carries the version of the
    parent it came with; one from an older version is a line the parent no longer has."""
    tally = Tally()
    for parent, child in _children(source):
        names = {
            "child": sql.Identifier(child.table.table),
            "parent": sql.Identifier(parent.table),
            "fk": sql.Identifier(child.parent_column),
            "pk": sql.Identifier(parent.key[0]),
            "child_guard": sql.Identifier(child.parent_guard_column),
            "guard": sql.Identifier(parent.guard or parent.key[0]),
        }
        stale = _count(
            conn,
            sql.SQL(
                "SELECT count(*) FROM {child} c JOIN {parent} p ON p.{pk} = c.{fk} "
                "WHERE c.{child_guard} IS DISTINCT FROM p.{guard}"
            ).format(**names),
        )
        orphans = _count(
            conn,
            sql.SQL(
                "SELECT count(*) FROM {child} c WHERE NOT EXISTS "
                "(SELECT 1 FROM {parent} p WHERE p.{pk} = c.{fk})"
            ).format(**names),
        )
        table = child.table.table
        tally.note("duplicated", stale, f"{table} rows of an older version of their parent")
        tally.note("mismatched", orphans, f"{table} rows without their parent")
    return tally


def measure(conn: psycopg.Connection[Any], source: str, expected: dict[str, Any]) -> Tally:
    """Everything stored for `source` against the simulator's truth for it."""
    tally = check_children(conn, source)
    malformed = {entity: set(ids) for entity, ids in (expected.get("malformed") or {}).items()}
    for entity, ids in expected["entities"].items():
        rows = _stored_rows(conn, source, entity)
        skip = malformed.get(entity, set())
        if entity in CHILD_ENTITIES:
            skip = _children_of_quarantined(conn, source)
            # Square names line items order:uid; a malformed order's lines are not stored.
            bad_orders = malformed.get("orders", set())
            skip |= {i for i in ids["alive"] + ids["deleted"] if i.split(":")[0] in bad_orders}
        tally.add(_compare_ids(entity, rows, set(ids["alive"]) - skip, set(ids["deleted"]) - skip))
    tally.add(_compare_quarantine(conn, source, malformed))
    tally.add(_compare_daily(conn, source, expected))
    return tally


def _stored_rows(conn: psycopg.Connection[Any], source: str, entity: str) -> list[Any]:
    if source == "square":
        query: sql.Composable = sql.SQL(square_truth.STORED_IDS[entity])
    else:
        query = sql.SQL("SELECT id, deleted_at IS NOT NULL FROM {}").format(
            sql.Identifier(f"lightspeed_{entity}")
        )
    return conn.execute(query).fetchall()


def _compare_ids(
    entity: str, rows: list[Any], expected_alive: set[str], expected_deleted: set[str]
) -> Tally:
    tally = Tally(checked=len(expected_alive) + len(expected_deleted))
    copies = Counter(row[0] for row in rows)
    alive = {row[0] for row in rows if not row[1]}
    deleted = {row[0] for row in rows if row[1]}
    expected = expected_alive | expected_deleted
    tally.note("duplicated", sum(n - 1 for n in copies.values()), f"{entity} ids in two rows")
    tally.note("lost", len(expected - copies.keys()), f"{entity} not stored")
    tally.note("mismatched", len(copies.keys() - expected), f"{entity} the truth does not have")
    tally.note("mismatched", len(expected_deleted & alive), f"{entity} deleted there, not here")
    tally.note("mismatched", len(expected_alive & deleted), f"{entity} deleted here, not there")
    return tally


def _children_of_quarantined(conn: psycopg.Connection[Any], source: str) -> set[str]:
    """Ids (as the truth names them) of the children inside quarantined parents."""
    found: set[str] = set()
    for parent, child in _children(source):
        entity = parent.table.removeprefix(f"{source}_")
        key = next(k for k in child.table.key if k != child.parent_column)
        rows = conn.execute(
            "SELECT raw FROM sync_quarantine WHERE source = %s AND entity_type = %s",
            (source, entity),
        ).fetchall()
        for (raw,) in rows:
            if not isinstance(raw, dict):
                continue
            for item in raw.get(child.path) or []:
                if isinstance(item, dict) and key in item:
                    # Square's line items are named order:uid in the truth.
                    prefix = f"{raw.get('id')}:" if source == "square" else ""
                    found.add(f"{prefix}{item[key]}")
    return found


def _compare_quarantine(
    conn: psycopg.Connection[Any], source: str, malformed: dict[str, set[str]]
) -> Tally:
    """Every malformed record is in quarantine (invariant 4: nothing silently dropped)."""
    tally = Tally()
    for entity, ids in malformed.items():
        quarantined = {
            row[0]
            for row in conn.execute(
                "SELECT record_id FROM sync_quarantine WHERE source = %s AND entity_type = %s",
                (source, entity),
            )
        }
        named = ids & quarantined
        without_id = sum(1 for record_id in quarantined if record_id.startswith(NO_ID))
        # A record whose id is missing is quarantined under a hash of its payload.
        accounted = len(named) + min(without_id, len(ids - named))
        tally.checked += len(ids)
        tally.note(
            "lost", len(ids) - accounted, f"malformed {entity} in neither table nor quarantine"
        )
    return tally


def _compare_daily(conn: psycopg.Connection[Any], source: str, expected: dict[str, Any]) -> Tally:
    tally = Tally()
    stored: dict[tuple[str, str], dict[str, Any]]
    wanted: dict[tuple[str, str], dict[str, Any]]
    if source == "square":
        stored, wanted = square_truth.square_daily(conn), square_truth.truth_daily(expected)
    else:
        stored, wanted = truth.lightspeed_daily(conn), truth.truth_daily(expected)
    empty: dict[str, Any] = {"count": 0}
    extra_counts = sum(
        max(0, stored.get(day, empty)["count"] - wanted.get(day, empty)["count"])
        for day in stored.keys() | wanted.keys()
    )
    differing = [
        day
        for day in stored.keys() | wanted.keys()
        if _day_values(stored.get(day)) != _day_values(wanted.get(day))
    ]
    tally.note("duplicated", extra_counts, "sales or orders counted more than once in a day")
    tally.note("mismatched", len(differing), f"days whose count or money differ: {differing[:3]}")
    return tally


def _day_values(day: dict[str, Any] | None) -> dict[str, Any]:
    if day is None:
        return {}
    return {k: Decimal(v) if not isinstance(v, int) else v for k, v in day.items()}


def _count(conn: psycopg.Connection[Any], query: sql.Composable) -> int:
    row = conn.execute(query).fetchone()
    return int(row[0]) if row else 0
