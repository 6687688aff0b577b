"""What the dashboard holds for its lifetime, and the request's database connection."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

import psycopg
from flask import current_app, g

from possync.config import Settings
from possync.db import Database
from possync.jobs import JobQueue
from possync.web.cache import StatusCache


@dataclass
class WebState:
    settings: Settings
    db: Database
    cache: StatusCache
    job_queue: JobQueue
    # `serve` runs a worker and the scheduler itself: /healthz fails while they are down.
    expect_worker: bool = False


def web_state() -> WebState:
    """The dashboard's state, from the current Flask app."""
    return cast(WebState, current_app.extensions["possync"])


def connection() -> psycopg.Connection[Any]:
    """This request's connection (autocommit: the dashboard only reads), opened on first use.

    A connection per request rather than a pool: an unreachable database then fails at once
    (HTTP 503) instead of waiting on a pool, and the dashboard's load is a few small queries.
    """
    conn = g.get("possync_conn")
    if conn is None:
        conn = web_state().db.connect(autocommit=True)
        g.possync_conn = conn
    return cast(psycopg.Connection[Any], conn)


def close_connection(_exc: BaseException | None = None) -> None:
    conn = g.pop("possync_conn", None)
    if conn is not None:
        conn.close()
