"""`possync serve`: the dashboard, a worker and the scheduler in one process, for one shop.

The dashboard runs on waitress (a production WSGI server, pure Python, with a thread pool) in
the main thread; the worker and the periodic scheduler run on their own event loop in a
background thread. Ctrl-C (or SIGTERM) stops the web server, then the worker: a running sync
finishes the entity it is on (so nothing is half-done), then everything exits.
"""

from __future__ import annotations

import ipaddress
import logging
import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

import waitress
from flask import Flask

from possync.config.settings import Settings
from possync.db.access import ensure_schema_exists
from possync.db.connection import Database, wait_for_database
from possync.db.jobs_schema import job_queue_schema_exists
from possync.errors import PossyncError, SchemaMissingError
from possync.jobs.worker import BackgroundWorker
from possync.web import create_app, require_dashboard_password

logger = logging.getLogger(__name__)

WEB_THREADS = 8


def check_ready(settings: Settings, db: Database) -> None:
    """Fail fast, in one line, when the password or the tables are missing; wait (up to
    POSSYNC_DATABASE_WAIT_SECONDS) for a database that does not answer yet."""
    require_dashboard_password(settings)
    wait_for_database(db, settings.database_wait_seconds, say=_note)
    with db.connect() as conn:
        ensure_schema_exists(conn, db.schema)
        if not job_queue_schema_exists(conn):
            raise SchemaMissingError("the job queue's tables are missing: run `possync migrate`")


def exposure_warning(host: str, settings: Settings) -> str | None:
    """A warning when other machines can reach an unguarded `/metrics`; None otherwise."""
    token = settings.metrics_token
    if is_loopback(host) or (token is not None and token.get_secret_value()):
        return None
    return (
        f"warning: listening on {host} without POSSYNC_METRICS_TOKEN: anyone who can reach "
        "this address can read /metrics; set POSSYNC_METRICS_TOKEN"
    )


def is_loopback(host: str) -> bool:
    """True for addresses only this machine can reach (127.0.0.0/8, ::1, localhost)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


def _raise_interrupt(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def serve_dashboard(
    settings: Settings,
    db: Database,
    host: str = "127.0.0.1",
    port: int = 8080,
    *,
    worker: bool = True,
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Serve the dashboard (and, unless `worker=False`, a worker and the schedules) until
    Ctrl-C or SIGTERM. `on_ready` gets the URL once the port is bound (port 0: a free one)."""
    check_ready(settings, db)
    warning = exposure_warning(host, settings)
    if warning:
        _note(warning)
    app: Flask = create_app(settings, db, expect_worker=worker)
    try:
        server: Any = waitress.create_server(
            app, host=host, port=port, threads=WEB_THREADS, ident="possync"
        )
    except OSError as exc:
        raise PossyncError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    background = BackgroundWorker(settings, db, schedules=True) if worker else None
    previous = _install_stop_handlers()
    try:
        if background is not None:
            background.start()
        url = f"http://{host}:{server.effective_port}/"
        if on_ready is not None:
            on_ready(url)
        logger.info("dashboard on %s", url)
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        _restore_handlers(previous)
        _close_server(server)
        if background is not None:
            _note("stopping (a running sync first finishes the entity it is on)")
            background.stop()
        app.extensions["possync"].close()


def _install_stop_handlers() -> dict[int, Any]:
    """Ctrl-C and SIGTERM stop serving. SIGINT is set explicitly: a shell starts background
    jobs with SIGINT ignored, and `serve` must still stop when a script sends it."""
    if threading.current_thread() is not threading.main_thread():
        return {}  # signal handlers can only be set from the main thread
    return {sig: signal.signal(sig, _raise_interrupt) for sig in (signal.SIGINT, signal.SIGTERM)}


def _restore_handlers(previous: dict[int, Any]) -> None:
    for sig, handler in previous.items():
        signal.signal(sig, handler)


def _close_server(server: Any) -> None:
    server.close()
    dispatcher = getattr(server, "task_dispatcher", None)
    if dispatcher is not None:
        dispatcher.shutdown(timeout=5)


def _note(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
