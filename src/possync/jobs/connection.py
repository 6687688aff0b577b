"""procrastinate's connection to possync's database: the connector, its options and the
search path every job connection starts with."""

from __future__ import annotations

from typing import Any

import psycopg
from procrastinate import PsycopgConnector
from psycopg import sql

from possync.db.connection import APPLICATION_NAME, CONNECT_TIMEOUT_SECONDS, Database


def search_path_statement(schema: str) -> sql.Composed:
    """Put possync's schema first on every job connection."""
    return sql.SQL("SET search_path TO {}, public").format(sql.Identifier(schema))


CONNECTION_KWARGS: dict[str, Any] = {
    "connect_timeout": CONNECT_TIMEOUT_SECONDS,
    "application_name": f"{APPLICATION_NAME}-jobs",
}


def job_connector(db: Database, *, max_pool_size: int = 4) -> PsycopgConnector:
    """procrastinate's async psycopg connector for `db`: workers need it, and deferring from
    synchronous code works through `JobQueue`, which opens it on a synchronous pool."""
    schema_statement = search_path_statement(db.schema)

    async def put_schema_first(conn: psycopg.AsyncConnection[Any]) -> None:
        await conn.execute(schema_statement)
        if not conn.autocommit:
            await conn.commit()

    return PsycopgConnector(
        conninfo=db.url,
        kwargs=CONNECTION_KWARGS,
        configure=put_schema_first,
        min_size=1,
        max_size=max_pool_size,
    )
