"""The dlt contender: a dlt pipeline that imports the same Lightspeed /sales pages.

dlt's own REST API source walks `/sales` exactly as possync does (`after=version.max`,
page_size 1000, bearer token, stop on the empty page) and loads it into PostgreSQL with
`write_disposition="merge"` and `primary_key="id"`. Nested lists become dlt child tables
(`sales__line_items`, `sales__payments`), the same rows possync stores; `max_table_nesting=1`
keeps deeper lists (a line item's tax components) as JSON, as possync keeps them in `raw`.
It runs twice: with dlt's default loader for PostgreSQL (INSERT … VALUES files) and with csv
files, which dlt loads by COPY (its fastest PostgreSQL path); dlt's defaults otherwise.

dlt is only needed for the benchmark (the `bench` extra). Telemetry is switched off: nothing
leaves 127.0.0.1. The pipeline runs in its own process, timed end to end like `possync sync`.

Rerun alone: part of `.venv/bin/python -m bench.historical_import --scale medium`.
"""

from __future__ import annotations

import os
import shutil
import sys
import uuid
from typing import Literal
from urllib.parse import quote

from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from bench.common import DATA_DIR, SimulatorProcess, clean_env, run_measured
from possync.db.connection import Database

PAGE_SIZE = 1000
DATASET = "dlt_lightspeed"
SALE_TABLES = ("sales", "sales__line_items", "sales__payments")
ENV_DATABASE = "BENCH_DLT_DATABASE_URL"
ENV_API = "BENCH_DLT_LIGHTSPEED_URL"
ENV_TOKEN = "BENCH_DLT_TOKEN"
ENV_WORKDIR = "BENCH_DLT_WORKDIR"
ENV_FORMAT = "BENCH_DLT_FILE_FORMAT"
FILE_FORMATS: dict[str, Literal["insert_values", "csv"]] = {
    "insert_values": "insert_values",  # dlt's default for PostgreSQL
    "csv": "csv",  # loaded with COPY
}


def destination_credentials(database_url: str) -> str:
    """dlt's PostgreSQL credentials for a libpq URL. dlt wants a host name in the URL; the
    embedded server listens on a Unix socket, so its directory goes in the `host` query
    parameter, which libpq prefers to the name."""
    info = conninfo_to_dict(database_url)
    host = str(info.get("host") or "localhost")
    user = quote(str(info.get("user") or "postgres"), safe="")
    password = quote(str(info.get("password") or ""), safe="")
    name, port = info["dbname"], info.get("port") or 5432
    if host.startswith("/"):
        return f"postgresql://{user}:{password}@localhost:{port}/{name}?host={quote(host)}"
    return f"postgresql://{user}:{password}@{host}:{port}/{name}"


def run_pipeline(
    database_url: str, lightspeed_url: str, token: str, workdir: str, file_format: str
) -> None:
    """Import every sale (with its line items and payments) into `database_url` with dlt."""
    os.environ["RUNTIME__DLTHUB_TELEMETRY"] = "false"  # before dlt reads its configuration
    os.environ.setdefault("RUNTIME__LOG_LEVEL", "ERROR")
    import dlt
    from dlt.sources.rest_api import rest_api_source

    source = rest_api_source(
        {
            "client": {
                "base_url": lightspeed_url.rstrip("/") + "/",
                "auth": {"type": "bearer", "token": token},
            },
            "resource_defaults": {
                "primary_key": "id",
                "write_disposition": "merge",
                "max_table_nesting": 1,
            },
            "resources": [
                {
                    "name": "sales",
                    "endpoint": {
                        "path": "sales",
                        "params": {"page_size": PAGE_SIZE},
                        "data_selector": "data",
                        "paginator": {
                            "type": "cursor",
                            "cursor_path": "version.max",
                            "cursor_param": "after",
                        },
                    },
                }
            ],
        }
    )
    pipeline = dlt.pipeline(
        pipeline_name="possync_bench",
        destination=dlt.destinations.postgres(credentials=destination_credentials(database_url)),
        dataset_name=DATASET,
        pipelines_dir=workdir,
    )
    pipeline.run(source, loader_file_format=FILE_FORMATS[file_format])


def count_dlt_rows(db: Database) -> int:
    """Sales + line items + payments in dlt's tables, counted as for every contender."""
    total = 0
    with db.connect() as conn:
        for table in SALE_TABLES:
            row = conn.execute(
                sql.SQL("SELECT count(*) FROM {}.{}").format(
                    sql.Identifier(DATASET), sql.Identifier(table)
                )
            ).fetchone()
            total += int(row[0]) if row else 0
    return total


def measure_dlt(
    db: Database, sim: SimulatorProcess, file_format: str = "insert_values"
) -> tuple[float, float, int]:
    """The dlt pipeline in its own process: wall seconds, peak MiB, rows stored.
    `file_format`: dlt's default for PostgreSQL (`insert_values`) or `csv` (loaded by COPY)."""
    workdir = DATA_DIR / f"dlt-{uuid.uuid4().hex[:8]}"
    env = {
        **clean_env(),
        "RUNTIME__DLTHUB_TELEMETRY": "false",
        ENV_DATABASE: db.url,
        ENV_API: sim.lightspeed_url,
        ENV_TOKEN: sim.token,
        ENV_WORKDIR: str(workdir),
        ENV_FORMAT: file_format,
    }
    try:
        seconds, peak = run_measured([sys.executable, "-m", "bench.dlt_pipeline"], env)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return seconds, peak, count_dlt_rows(db)


def main() -> None:
    """Entry point of the timed child process; settings come from the environment."""
    run_pipeline(
        os.environ[ENV_DATABASE],
        os.environ[ENV_API],
        os.environ[ENV_TOKEN],
        os.environ[ENV_WORKDIR],
        os.environ[ENV_FORMAT],
    )


if __name__ == "__main__":
    main()
