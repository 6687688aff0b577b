"""Error pages. A database that can't be reached answers 503 with a clear message and a retry
on every page (JSON for the API), never a traceback; the message names host, port and
database but never the password."""

from __future__ import annotations

import logging

import psycopg
from flask import Flask, Response, jsonify, render_template, request
from procrastinate.exceptions import ConnectorException
from psycopg_pool import PoolTimeout
from werkzeug.exceptions import HTTPException

from possync.db.connection import translate_database_error, unreachable_message
from possync.errors import DatabaseError, SchemaMissingError
from possync.web.auth import has_signed_session
from possync.web.shop_context import local_path
from possync.web.state import web_state

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 10
MACHINE_PREFIXES = ("/api/", "/healthz", "/metrics")
ANONYMOUS_DETAIL = "The database is not answering. Log in to see why, or read the server's log."


def describe_database_problem(exc: BaseException) -> str:
    """One safe line for any database failure."""
    url = web_state().db.url
    if isinstance(exc, DatabaseError):
        return str(exc)
    if isinstance(exc, psycopg.Error):
        return str(translate_database_error(url, exc))
    cause = exc.__cause__ or exc
    if isinstance(cause, psycopg.Error):
        return str(translate_database_error(url, cause))
    return unreachable_message(url, cause)


def _wants_machine_answer() -> bool:
    return local_path().startswith(MACHINE_PREFIXES) or request.accept_mimetypes.best == (
        "application/json"
    )


def database_unavailable(exc: Exception) -> tuple[Response | str, int, dict[str, str]]:
    """503 for every database failure. The reason (host, port, database name) goes to the log
    and to people who logged in; anonymous callers learn only that it is down."""
    message = describe_database_problem(exc)
    logger.warning("dashboard: %s", message)
    pool = web_state().connections
    if pool is not None and isinstance(exc, psycopg.OperationalError | DatabaseError):
        pool.discard_idle()
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    schema_missing = isinstance(exc, SchemaMissingError) or "possync migrate" in message
    if not has_signed_session():
        message = ANONYMOUS_DETAIL
    if _wants_machine_answer():
        if request.path.startswith("/metrics"):
            return "possync_up 0\n", 503, {**headers, "Content-Type": "text/plain"}
        if request.path.startswith("/healthz") and message == ANONYMOUS_DETAIL:
            return jsonify(status="down"), 503, headers
        return jsonify(error="database unavailable", detail=message), 503, headers
    page = render_template(
        "errors/503.html",
        message=message,
        schema_missing=schema_missing,
        retry_seconds=RETRY_AFTER_SECONDS,
    )
    return page, 503, headers


def http_error(exc: HTTPException) -> tuple[Response | str, int]:
    """Our page (or JSON) for 4xx answers, with the description only."""
    code = exc.code or 500
    if _wants_machine_answer():
        return jsonify(error=exc.name, detail=exc.description), code
    return render_template(
        "errors/error.html", code=code, title=exc.name, detail=exc.description
    ), code


def unexpected_error(exc: Exception) -> tuple[Response | str, int]:
    """Log the traceback; show only that something failed."""
    logger.exception("dashboard: unexpected error on %s", request.path)
    detail = "Something went wrong on our side. It has been logged; try again."
    if _wants_machine_answer():
        return jsonify(error="internal error", detail=detail), 500
    return render_template("errors/error.html", code=500, title="Error", detail=detail), 500


def init_app(app: Flask) -> None:
    for exc_class in (DatabaseError, psycopg.Error, ConnectorException, PoolTimeout):
        app.register_error_handler(exc_class, database_unavailable)
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(Exception, unexpected_error)
