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

SESSION_MAX_AGE = timedelta(hours=12)


def _id_hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def start_session(conn: psycopg.Connection[Any], idle: timedelta) -> str:
    """A new session's id (for the cookie); ended sessions are swept out on the way."""
    session_id = secrets.token_urlsafe(32)
    conn.execute(
        """DELETE FROM dashboard_sessions
           WHERE last_seen_at < now() - %s::interval OR created_at < now() - %s::interval""",
        (idle, SESSION_MAX_AGE),
    )
    conn.execute("INSERT INTO dashboard_sessions (id_hash) VALUES (%s)", (_id_hash(session_id),))
    return session_id


def session_is_alive(
    conn: psycopg.Connection[Any], session_id: str, idle: timedelta, *, refresh: bool
) -> bool:
    """True while the session exists and has not idled out; `refresh` counts this request as
    use (background polls don't, so an open tab left alone still idles out)."""
    alive = """id_hash = %s AND last_seen_at >= now() - %s::interval
               AND created_at >= now() - %s::interval"""
    params = (_id_hash(session_id), idle, SESSION_MAX_AGE)
    if refresh:
        query = f"UPDATE dashboard_sessions SET last_seen_at = now() WHERE {alive} RETURNING 1"
    else:
        query = f"SELECT 1 FROM dashboard_sessions WHERE {alive}"
    return conn.execute(query, params).fetchone() is not None


def end_session(conn: psycopg.Connection[Any], session_id: str) -> None:
    conn.execute("DELETE FROM dashboard_sessions WHERE id_hash = %s", (_id_hash(session_id),))
