"""Heartbeats of workers and schedulers, in `possync_heartbeats` (migration 0007).

A process that runs jobs writes one row per role ("worker", and "scheduler" when it defers
the periodic jobs) and moves `last_beat` every `BEAT_SECONDS` while its procrastinate worker
runs. A role is alive when some process beat within `ALIVE_WITHIN_SECONDS`: a worker that
lost its database, hangs, or was killed stops beating and is reported down within that time.

Writing goes through the worker's own procrastinate connector (so a beat proves the worker's
connection works); reading is a plain query for `/healthz`, `/metrics` and the dashboard.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import psycopg
from procrastinate import BaseConnector

from possync.db.queries import query

ROLES = ("worker", "scheduler")
BEAT_SECONDS = 5.0
# Six missed beats: long enough for a busy machine, short enough for an uptime check.
ALIVE_WITHIN_SECONDS = 30.0
# Rows of processes gone this long are dropped when a worker starts.
FORGET_AFTER_DAYS = 7


@dataclass(frozen=True)
class RoleLiveness:
    """How many processes of one role beat recently, and the age of the freshest beat."""

    role: str
    alive: int
    last_beat_age_seconds: float | None  # None: never beat against this database

    @property
    def up(self) -> bool:
        return self.alive > 0

    def to_json(self) -> dict[str, Any]:
        age = self.last_beat_age_seconds
        return {
            "alive": self.alive,
            "last_heartbeat_age_seconds": None if age is None else round(age, 1),
        }


async def beat(connector: BaseConnector, process: str, roles: Iterable[str], restarts: int) -> None:
    """Record that `process` is alive in each of `roles` now."""
    for role in roles:
        await connector.execute_query_async(
            query("beat"),
            process=process,
            role=role,
            restarts=restarts,
        )


async def forget_old(connector: BaseConnector) -> None:
    """Drop the rows of processes that stopped beating long ago."""
    await connector.execute_query_async(query("forget_old_heartbeats"), days=FORGET_AFTER_DAYS)


async def forget(connector: BaseConnector, process: str) -> None:
    """`process` stops on purpose: it no longer counts as alive."""
    await connector.execute_query_async(query("forget_heartbeats"), process=process)


def read_liveness(
    conn: psycopg.Connection[Any], within_seconds: float = ALIVE_WITHIN_SECONDS
) -> dict[str, RoleLiveness]:
    """Liveness of each role, from the database's clock (never this machine's)."""
    rows = conn.execute(query("role_liveness"), {"within": within_seconds}).fetchall()
    found = {role: RoleLiveness(role, int(alive), age) for role, alive, age in rows}
    return {role: found.get(role, RoleLiveness(role, 0, None)) for role in ROLES}
