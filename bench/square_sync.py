"""Square historical import: possync end to end against the raw limits and the seeds' way.

All measured in one run, on the same simulated seller and the same PostgreSQL:
  (a) raw download + parse of the same orders pages (httpx + orjson, chunks of 10 locations);
  (b) raw COPY of the same rows into empty tables (no upsert, no validation);
  (c) the seeds' way: one upsert statement and one commit per record;
  possync: `possync sync --source square --entity orders`, end to end, in its own process;
  possync: `possync sync --source square` (every entity), end to end, with peak memory of
  that process at two store sizes.
Order rows = orders + line items; the full import counts the rows of every square_* table.

Rerun: .venv/bin/python -m bench.square_sync --scale medium  (a few minutes; writes
bench/results/square_sync.md). `--scale large --memory-scale medium` is the big check.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any

import httpx
import orjson
from psycopg import sql

from bench.common import (
    BENCH_DIR,
    copy_rows,
    machine_line,
    run_measured,
    scratch_database,
    simulator_process,
)
from possync.db.connection import Database
from possync.load.validate import validate_page
from possync.tables.square import ORDERS, TABLES

PAGE_LIMIT = 1000
LOCATION_CHUNK = 10
BASELINE_ORDERS = 3000


def walk_orders(base_url: str, token: str) -> tuple[list[list[dict[str, Any]]], float, int]:
    """(a): every orders page of every location chunk, parsed. Returns pages, seconds, rows."""
    pages: list[list[dict[str, Any]]] = []
    rows = 0
    headers = {"Authorization": f"Bearer {token}", "Square-Version": "2025-08-20"}
    started = time.perf_counter()
    with httpx.Client(base_url=base_url, headers=headers, timeout=60) as client:
        payload = orjson.loads(client.get("/v2/locations").content)
        ids = sorted(location["id"] for location in payload["locations"])
        for at in range(0, len(ids), LOCATION_CHUNK):
            body: dict[str, Any] = {
                "location_ids": ids[at : at + LOCATION_CHUNK],
                "limit": PAGE_LIMIT,
                "query": {"sort": {"sort_field": "UPDATED_AT", "sort_order": "ASC"}},
            }
            while True:
                answer = orjson.loads(client.post("/v2/orders/search", json=body).content)
                orders = answer.get("orders") or []
                pages.append(orders)
                rows += sum(1 + len(order.get("line_items") or []) for order in orders)
                if not answer.get("cursor"):
                    break
                body["cursor"] = answer["cursor"]
    return pages, time.perf_counter() - started, rows


def _specs() -> dict[str, Any]:
    return {ORDERS.table: ORDERS, **{c.table.table: c.table for c in ORDERS.children}}


def raw_copy(db: Database, pages: list[list[dict[str, Any]]]) -> tuple[float, int]:
    """(b): COPY the validated rows into the empty tables; validation is not timed."""
    valid = [validate_page(ORDERS, page) for page in pages]
    specs = _specs()
    rows = 0
    with db.connect() as conn:
        started = time.perf_counter()
        for page in valid:
            for table, spec in specs.items():
                columns = [*spec.column_names, "raw"]
                statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
                    sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
                )
                with conn.cursor() as cur, cur.copy(statement) as copy:
                    copy.write(page.copy_data[table])
                rows += page.count(table)
            conn.commit()
        return time.perf_counter() - started, rows


def row_by_row(db: Database, pages: list[list[dict[str, Any]]]) -> tuple[float, int]:
    """(c): the seeds' scripts: one upsert and one commit per record."""
    statements = {}
    for table, spec in _specs().items():
        columns = [*spec.column_names, "raw"]
        statements[table] = sql.SQL(
            "INSERT INTO {t} ({c}) VALUES ({v}) ON CONFLICT ({k}) DO UPDATE SET {u}"
        ).format(
            t=sql.Identifier(table),
            c=sql.SQL(", ").join(map(sql.Identifier, columns)),
            v=sql.SQL(", ").join(sql.Placeholder() * len(columns)),
            k=sql.SQL(", ").join(map(sql.Identifier, spec.key)),
            u=sql.SQL(", ").join(
                sql.SQL("{} = EXCLUDED.{}").format(sql.Identifier(c), sql.Identifier(c))
                for c in columns
                if c not in spec.key
            ),
        )
    sample = [order for page in pages for order in page][:BASELINE_ORDERS]
    valid = validate_page(ORDERS, sample)
    rows = 0
    with db.connect() as conn:
        started = time.perf_counter()
        for table, statement in statements.items():
            for row in copy_rows(valid.copy_data[table]):
                conn.execute(statement, row)
                conn.commit()
                rows += 1
        return time.perf_counter() - started, rows


def end_to_end(
    db: Database, square_url: str, token: str, entities: tuple[str, ...]
) -> tuple[float, float, int]:
    """possync itself in its own process: seconds, peak MiB, rows stored."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("POSSYNC_")},
        "POSSYNC_DATABASE_URL": db.url,
        "POSSYNC_SQUARE_URL": square_url,
        "POSSYNC_SQUARE_TOKEN": token,
        "POSSYNC_SQUARE_PAGE_LIMIT": str(PAGE_LIMIT),
    }
    args = [sys.executable, "-m", "possync", "sync", "--source", "square"]
    for entity in entities:
        args += ["--entity", entity]
    seconds, peak = run_measured(args, env)
    tables = [ORDERS.table, ORDERS.children[0].table.table] if entities else None
    return seconds, peak, count_rows(db, tables)


def count_rows(db: Database, tables: list[str] | None) -> int:
    if tables is None:
        tables = [spec.table for spec in TABLES.values()]
        tables += [c.table.table for spec in TABLES.values() for c in spec.children]
    total = 0
    with db.connect() as conn:
        for table in tables:
            row = conn.execute(
                sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))
            ).fetchone()
            total += int(row[0]) if row else 0
    return total


def measure(scale: str, *, full: bool) -> dict[str, Any]:
    result: dict[str, Any] = {"scale": scale}
    with simulator_process(scale, extra_args=("--no-lightspeed",)) as sim:
        with scratch_database() as db:
            seconds, peak, rows = end_to_end(db, sim.base_url, sim.token, ())
        result.update(all_rows=rows, all_seconds=seconds, all_rate=rows / seconds, peak_mib=peak)
        if not full:
            return result
        with scratch_database() as db:
            seconds, _, rows = end_to_end(db, sim.base_url, sim.token, ("orders",))
        result.update(e2e=rows / seconds, e2e_rows=rows, e2e_seconds=seconds)
        pages, download_seconds, download_rows = walk_orders(sim.base_url, sim.token)
        with scratch_database() as db:
            copy_seconds, copy_rows = raw_copy(db, pages)
        with scratch_database() as db:
            baseline_seconds, baseline_rows = row_by_row(db, pages)
    result.update(
        download=download_rows / download_seconds,
        copy=copy_rows / copy_seconds,
        baseline=baseline_rows / baseline_seconds,
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="medium", choices=["medium", "large"])
    parser.add_argument("--memory-scale", default="small", choices=["small", "medium"])
    args = parser.parse_args()
    big = measure(args.scale, full=True)
    small = measure(args.memory_scale, full=False)
    floor = min(big["download"], big["copy"])
    lines = [
        f"### Square historical import ({args.scale} seller: {big['e2e_rows']:,} order rows, "
        f"{big['all_rows']:,} rows in all)",
        "",
        f"Machine: {machine_line()}. Command: `.venv/bin/python -m bench.square_sync "
        f"--scale {args.scale} --memory-scale {args.memory_scale}`.",
        "",
        "| measure | rows/s | possync ÷ this |",
        "|---|---:|---:|",
        f"| possync orders end to end (`--entity orders`) | {big['e2e']:,.0f} | 1.00 |",
        f"| (a) raw download + parse of the same pages | {big['download']:,.0f} | "
        f"{big['e2e'] / big['download']:.2f} |",
        f"| (b) raw COPY of the same rows | {big['copy']:,.0f} | {big['e2e'] / big['copy']:.2f} |",
        f"| (c) row-by-row upsert + commit (seeds) | {big['baseline']:,.0f} | "
        f"{big['e2e'] / big['baseline']:.1f} |",
        "",
        f"Orders end to end are {big['e2e'] / floor:.2f} × the smaller raw limit and "
        f"{big['e2e'] / big['baseline']:.0f} × the row-by-row baseline.",
        "",
        "| store | rows (every entity) | seconds | rows/s | peak memory of the sync process |",
        "|---|---:|---:|---:|---:|",
    ]
    for run in (small, big):
        lines.append(
            f"| {run['scale']} | {run['all_rows']:,} | {run['all_seconds']:.1f} | "
            f"{run['all_rate']:,.0f} | {run['peak_mib']:.0f} MiB |"
        )
    text = "\n".join(lines) + "\n"
    print(text)
    out = BENCH_DIR / "results"
    out.mkdir(exist_ok=True)
    (out / "square_sync.md").write_text(text)


if __name__ == "__main__":
    main()
