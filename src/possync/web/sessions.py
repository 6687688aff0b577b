"""Dashboard sessions kept in PostgreSQL, so logout and an idle timeout really end them.

The signed cookie carries a random session id; the table `dashboard_sessions` holds its
SHA-256. A cookie whose session was deleted (logout), unused for POSSYNC_SESSION_IDLE_MINUTES,
or started more than SESSION_MAX_AGE ago opens nothing, even though its signature is valid.
Several dashboard processes on one database share the sessions.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

import psycopg

from possync.db.queries import query

SESSION_MAX_AGE = timedelta(hours=12)


def _id_hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def start_session(conn: psycopg.Connection[Any], idle: timedelta) -> str:
    """A new session's id (for the cookie); ended sessions are swept out on the way."""
    session_id = secrets.token_urlsafe(32)
    conn.execute(query("sweep_sessions"), (idle, SESSION_MAX_AGE))
    conn.execute(query("start_session"), (_id_hash(session_id),))
    return session_id


def session_is_alive(
    conn: psycopg.Connection[Any], session_id: str, idle: timedelta, *, refresh: bool
) -> bool:
    """True while the session exists and has not idled out; `refresh` counts this request as
    use (background polls don't, so an open tab left alone still idles out)."""
    params = (_id_hash(session_id), idle, SESSION_MAX_AGE)
    check = query("touch_session") if refresh else query("session_alive")
    return conn.execute(check, params).fetchone() is not None


def end_session(conn: psycopg.Connection[Any], session_id: str) -> None:
    conn.execute(query("end_session"), (_id_hash(session_id),))
