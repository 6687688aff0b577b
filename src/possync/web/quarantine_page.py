"""The quarantine page (one shop's): records that failed validation, newest first, filtered
by source and entity, each with its reason, when it was first and last seen, and its payload
on demand.
Behind the login like every page; read-only (`possync sync --retry-quarantined` retries)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import psycopg
from flask import Blueprint, abort, render_template, request
from psycopg.rows import dict_row

from possync.db.queries import query
from possync.web.list_data import Page
from possync.web.shop_context import shop_connection

blueprint = Blueprint("quarantine", __name__)


@dataclass(frozen=True)
class QuarantineFilter:
    source: str | None = None
    entity: str | None = None

    def params(self) -> dict[str, Any]:
        return {"source": self.source, "entity": self.entity}

    def query_args(self) -> dict[str, str]:
        return {k: v for k, v in self.params().items() if v}


def quarantine_counts(conn: psycopg.Connection[Any]) -> dict[str, int]:
    """Quarantined records per card key ("source/entity")."""
    rows = conn.execute(query("quarantine_counts")).fetchall()
    return {str(key): int(count) for key, count in rows}


@blueprint.route("/quarantine")
def index() -> str:
    where = QuarantineFilter(
        source=request.args.get("source") or None, entity=request.args.get("entity") or None
    )
    conn = shop_connection()
    row = conn.execute(query("quarantine_count"), where.params())
    total = row.fetchone()
    page = Page(number=1, total_rows=int(total[0]) if total else 0)
    number = min(max(request.args.get("page", 1, type=int) or 1, 1), page.count)
    page = Page(number=number, total_rows=page.total_rows)
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            query("quarantine_page"),
            {**where.params(), "limit": page.per_page, "offset": page.offset},
        )
        rows = cur.fetchall()
    options = conn.execute(query("quarantine_filter_options")).fetchall()
    return render_template(
        "quarantine/index.html",
        rows=rows,
        page=page,
        where=where,
        sources=sorted({source for source, _ in options}),
        entities=sorted({entity for _, entity in options}),
    )


@blueprint.route("/quarantine/<source>/<entity>/<path:record_id>")
def record(source: str, entity: str, record_id: str) -> str:
    """One quarantined record with its payload as received (pretty-printed)."""
    with shop_connection().cursor(row_factory=dict_row) as cur:
        cur.execute(query("quarantine_record"), (source, entity, record_id))
        found = cur.fetchone()
    if found is None:
        abort(404, description="no such quarantined record (it may have loaded since)")
    payload = json.dumps(found["raw"], indent=2, ensure_ascii=False, sort_keys=True)
    return render_template("quarantine/record.html", row=found, payload=payload)
