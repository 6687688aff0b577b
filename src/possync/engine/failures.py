"""How a run's failure is put into words, and runs whose process died are closed.

Whatever ends a run must leave sync_state `failed` with a one-line reason and its sync_log
rows closed (invariant: nothing fails silently). Expected failures (PossyncError) carry their
own message; anything else is a bug, named by its type and message, its traceback logged at
debug level. A run killed with -9 cannot close itself: the next sync that takes the entity's
lock closes its rows as `abandoned`.
"""

from __future__ import annotations

import logging
from typing import Any

import psycopg

from possync.db.connection import translate_database_error
from possync.db.locks import try_lock_entity, unlock_entity
from possync.db.state import close_abandoned_runs
from possync.errors import PossyncError
from possync.sources.registry import child_entities_for, tables_for

log = logging.getLogger(__name__)


def failure_message(exc: BaseException, db_url: str) -> str:
    """One line that says what ended the run."""
    if isinstance(exc, psycopg.Error):
        # The URL names the server in the message (its password is never shown).
        return str(translate_database_error(db_url, exc))
    if isinstance(exc, PossyncError):
        return str(exc)
    log.debug("the run ended on an unexpected error", exc_info=exc)
    detail = " ".join(str(exc).split()) or "no message"
    return f"unexpected {type(exc).__name__}: {detail} (a bug: --debug shows the traceback)"


def sweep_abandoned_runs(conn: psycopg.Connection[Any], source: str) -> int:
    """Close the `started` runs of every entity of `source` whose lock is free (so no live
    process runs them); entities being synced right now are left alone. Commits."""
    closed = 0
    for entity in tables_for(source):
        if not try_lock_entity(conn, source, entity):
            conn.commit()
            continue
        try:
            closed += close_abandoned_runs(
                conn, source, [entity, *child_entities_for(source, entity)]
            )
            conn.commit()
        finally:
            unlock_entity(conn, source, entity)
            conn.commit()
    if closed:
        log.info("%s: closed %d run(s) left open by a killed process as abandoned", source, closed)
    return closed
