"""Lightspeed historical import: possync end to end against the raw limits and the seeds' way.

All measured in one run, on the same simulated store and the same PostgreSQL:
  (a) raw download + parse of the same /sales pages (httpx + orjson, nothing else);
  (b) raw COPY of the same rows into empty tables (no upsert, no validation);
  (c) the seeds' way: one upsert statement and one commit per record;
  possync: `possync sync --source lightspeed --entity sales`, end to end, in its own process;
  peak memory of that process at two store sizes.
Rows = sales + line items + payments.

Rerun: .venv/bin/python -m bench.lightspeed_sync --scale large  (about 5 minutes; writes
bench/results/lightspeed_sync.md). `--scale medium` is a quicker check.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import httpx
import orjson
from psycopg import sql

from bench.common import (
    RESULTS_DIR,
    SimulatorProcess,
    copy_rows,
    count_rows,
    machine_line,
    possync_command,
    possync_env,
    run_measured,
    scratch_database,
    simulator_process,
)
from possync.db.connection import Database
from possync.load.validate import validate_page
from possync.tables.lightspeed import SALES

PAGE_SIZE = 1000
BASELINE_SALES = 3000


def walk_sales(base_url: str, token: str) -> tuple[list[list[dict[str, Any]]], float, int]:
    """(a): every /sales page, parsed. Returns pages, seconds, rows."""
    pages: list[list[dict[str, Any]]] = []
    rows = 0
    after = 0
    started = time.perf_counter()
    with httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=60) as client:
        while True:
            body = client.get(f"{base_url}/sales", params={"after": after, "page_size": PAGE_SIZE})
            payload = orjson.loads(body.content)
            data = payload["data"]
            if not data:
                break
            pages.append(data)
            rows += sum(
                1 + len(s.get("line_items") or []) + len(s.get("payments") or []) for s in data
            )
            after = payload["version"]["max"]
    return pages, time.perf_counter() - started, rows


def raw_copy(db: Database, pages: list[list[dict[str, Any]]]) -> tuple[float, int]:
    """(b): COPY the validated rows into the empty tables; validation is not timed."""
    valid = [validate_page(SALES, page) for page in pages]
    tables = [SALES.table, *(child.table.table for child in SALES.children)]
    specs = {SALES.table: SALES, **{c.table.table: c.table for c in SALES.children}}
    rows = 0
    with db.connect() as conn:
        started = time.perf_counter()
        for page in valid:
            for table in tables:
                columns = [*specs[table].column_names, "raw"]
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
    specs = [SALES, *(child.table for child in SALES.children)]
    statements = {}
    for spec in specs:
        columns = [*spec.column_names, "raw"]
        statements[spec.table] = sql.SQL(
            "INSERT INTO {t} ({c}) VALUES ({v}) ON CONFLICT (id) DO UPDATE SET {u}"
        ).format(
            t=sql.Identifier(spec.table),
            c=sql.SQL(", ").join(map(sql.Identifier, columns)),
            v=sql.SQL(", ").join(sql.Placeholder() * len(columns)),
            u=sql.SQL(", ").join(
                sql.SQL("{} = EXCLUDED.{}").format(sql.Identifier(c), sql.Identifier(c))
                for c in columns
                if c != "id"
            ),
        )
    sample = [s for page in pages for s in page][:BASELINE_SALES]
    valid = validate_page(SALES, sample)
    rows = 0
    with db.connect() as conn:
        started = time.perf_counter()
        for spec in specs:
            for row in copy_rows(valid.copy_data[spec.table]):
                conn.execute(statements[spec.table], row)
                conn.commit()
                rows += 1
        return time.perf_counter() - started, rows


def end_to_end(db: Database, sim: SimulatorProcess) -> tuple[float, float, int]:
    """possync itself in its own process: seconds, peak MiB, rows stored."""
    env = possync_env(db, sim, lightspeed_page_size=str(PAGE_SIZE))
    seconds, peak = run_measured(
        possync_command("sync", "--source", "lightspeed", "--entity", "sales"), env
    )
    return seconds, peak, count_rows(db)


def measure(scale: str) -> dict[str, Any]:
    with simulator_process(scale) as sim:
        with scratch_database() as db:
            e2e_seconds, peak_mib, e2e_rows = end_to_end(db, sim)
        pages, download_seconds, download_rows = walk_sales(sim.lightspeed_url, sim.token)
        with scratch_database() as db:
            copy_seconds, copy_rows = raw_copy(db, pages)
        with scratch_database() as db:
            baseline_seconds, baseline_rows = row_by_row(db, pages)
    return {
        "scale": scale,
        "download": download_rows / download_seconds,
        "copy": copy_rows / copy_seconds,
        "baseline": baseline_rows / baseline_seconds,
        "e2e": e2e_rows / e2e_seconds,
        "e2e_rows": e2e_rows,
        "e2e_seconds": e2e_seconds,
        "peak_mib": peak_mib,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="large", choices=["medium", "large"])
    parser.add_argument("--memory-scale", default="medium", choices=["small", "medium"])
    args = parser.parse_args()
    big = measure(args.scale)
    small = measure(args.memory_scale)
    floor = min(big["download"], big["copy"])
    lines = [
        f"### Lightspeed historical import ({args.scale} store: {big['e2e_rows']:,} rows)",
        "",
        f"Machine: {machine_line()}. Command: `.venv/bin/python -m bench.lightspeed_sync "
        f"--scale {args.scale}`.",
        "",
        "| measure | rows/s | possync ÷ this |",
        "|---|---:|---:|",
        f"| possync end to end (`possync sync`) | {big['e2e']:,.0f} | 1.00 |",
        f"| (a) raw download + parse of the same pages | {big['download']:,.0f} | "
        f"{big['e2e'] / big['download']:.2f} |",
        f"| (b) raw COPY of the same rows | {big['copy']:,.0f} | {big['e2e'] / big['copy']:.2f} |",
        f"| (c) row-by-row upsert + commit (seeds) | {big['baseline']:,.0f} | "
        f"{big['e2e'] / big['baseline']:.1f} |",
        "",
        f"End to end is {big['e2e'] / floor:.2f} × the smaller raw limit (target ≥ 0.5) and "
        f"{big['e2e'] / big['baseline']:.0f} × the row-by-row baseline (target ≥ 10).",
        "",
        "| store | rows | seconds | peak memory of the sync process |",
        "|---|---:|---:|---:|",
        f"| {small['scale']} | {small['e2e_rows']:,} | {small['e2e_seconds']:.1f} | "
        f"{small['peak_mib']:.0f} MiB |",
        f"| {big['scale']} | {big['e2e_rows']:,} | {big['e2e_seconds']:.1f} | "
        f"{big['peak_mib']:.0f} MiB |",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    RESULTS_DIR.mkdir(exist_ok=True)
    (RESULTS_DIR / "lightspeed_sync.md").write_text(text)


if __name__ == "__main__":
    main()
