"""Are the worker and the scheduler alive? From their heartbeats (`possync.jobs.heartbeat`), for
`/healthz`, `/metrics` and the banner every dashboard page shows when no worker is alive."""

from __future__ import annotations

import logging
from typing import Any, cast

import psycopg
from flask import Flask, g

from possync.errors import PossyncError
from possync.jobs.heartbeat import RoleLiveness, read_liveness
from possync.web.auth import logged_in_this_request
from possync.web.state import connection, has_connection, web_state

logger = logging.getLogger(__name__)


def current_liveness() -> dict[str, RoleLiveness]:
    """Each role's liveness, once per request (the banner and the endpoint share it)."""
    found = g.get("possync_liveness")
    if found is None:
        found = read_liveness(connection())
        g.possync_liveness = found
    return cast(dict[str, RoleLiveness], found)


def missing_roles(liveness: dict[str, RoleLiveness]) -> list[str]:
    """The roles this process is expected to keep alive but that are down."""
    if not web_state().expect_worker:
        return []
    return [role for role in ("worker", "scheduler") if not liveness[role].up]


def worker_banner() -> str | None:
    """The banner's text when no worker is alive (queued jobs would wait forever); None
    otherwise, or on a page that never reached the database (its error says why)."""
    if not has_connection() or not logged_in_this_request():
        return None
    try:
        worker = current_liveness()["worker"]
    except (PossyncError, psycopg.Error) as exc:
        logger.info("banner: heartbeats unreadable (%s)", type(exc).__name__)
        return None
    if worker.up:
        return None
    if worker.last_beat_age_seconds is None:
        since = "no worker has ever run against this database"
    else:
        since = f"the last heartbeat was {_age(worker.last_beat_age_seconds)} ago"
    return (
        f"No worker is running ({since}): queued and scheduled syncs will not run. "
        "Start possync serve or possync worker, or check its log."
    )


def _age(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def init_app(app: Flask) -> None:
    @app.context_processor
    def _banner() -> dict[str, Any]:
        return {"worker_banner": worker_banner}
