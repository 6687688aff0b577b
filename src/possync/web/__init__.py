"""The dashboard: a Flask app factory, one blueprint per page.

    create_app(settings, db) -> Flask

Pages: `/login`, `/` (overview), `/history`, `/jobs`, `/quarantine`, the business pages,
`/shops`; machine endpoints: `/api/status`, `/healthz`, `/metrics`. Each shop's pages are also
under `/shops/<name>/…` (`shop_context.py`); with one shop, today's URLs are its pages.

Every route but login, health, metrics and static needs a session
(enforced once, in `auth.require_login`, so a new route can't forget it; sessions live in the
`dashboard_sessions` table so logout ends them). The web layer reads the database, writes only
its sessions and enqueues jobs; it never talks to a POS API itself. Requests share a small pool
of idle connections (`pool.py`).
"""

from __future__ import annotations

import secrets
from typing import Any

from flask import Flask, Response

from possync.config.settings import Settings
from possync.db.connection import Database
from possync.errors import ConfigError
from possync.jobs.queue import JobQueue
from possync.web.cache import StatusCache
from possync.web.pool import ConnectionPool
from possync.web.sessions import SESSION_MAX_AGE
from possync.web.state import WebState

MIN_PASSWORD_LENGTH = 12
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def require_dashboard_password(settings: Settings) -> None:
    """One line (ConfigError) when the dashboard password is missing or too short to guess."""
    password = settings.dashboard_password.get_secret_value() if settings.dashboard_password else ""
    if not password:
        raise ConfigError(
            "POSSYNC_DASHBOARD_PASSWORD is not set: set it to the password for the dashboard"
        )
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ConfigError(
            f"POSSYNC_DASHBOARD_PASSWORD is {len(password)} characters long: use at least "
            f"{MIN_PASSWORD_LENGTH} (a few random words are easy to type and hard to guess)"
        )


def create_app(
    settings: Settings,
    db: Database,
    *,
    job_queue: JobQueue | None = None,
    expect_worker: bool = False,
) -> Flask:
    """The dashboard for one database. Refuses to build without a good dashboard password.

    `expect_worker`: this process runs a worker and the scheduler (`serve`), so /healthz
    answers 503 when their heartbeats stop."""
    require_dashboard_password(settings)
    app = Flask(__name__)
    secret = settings.secret_key.get_secret_value() if settings.secret_key else None
    app.config.update(
        SECRET_KEY=secret or secrets.token_urlsafe(32),
        SESSION_COOKIE_NAME="possync_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.session_cookie_secure,
        PERMANENT_SESSION_LIFETIME=SESSION_MAX_AGE,
        MAX_CONTENT_LENGTH=64 * 1024,
        TEMPLATES_AUTO_RELOAD=False,
    )
    app.extensions["possync"] = WebState(
        settings=settings,
        db=db,
        cache=StatusCache(settings.status_cache_seconds),
        job_queue=job_queue or JobQueue(settings, db),
        connections=ConnectionPool(db),
        expect_worker=expect_worker,
    )
    _register(app)
    app.after_request(_security_headers)
    return app


def _register(app: Flask) -> None:
    from possync.web import (
        analytics,
        api,
        auth,
        errors,
        filters,
        history,
        jobs_page,
        liveness,
        oauth_pages,
        overview,
        quarantine_page,
        shop_context,
        shops_page,
    )

    auth.init_app(app)
    errors.init_app(app)
    filters.init_app(app)
    liveness.init_app(app)
    oauth_pages.init_app(app)
    shop_context.init_app(app)
    for blueprint in (
        auth.blueprint,
        overview.blueprint,
        history.blueprint,
        jobs_page.blueprint,
        quarantine_page.blueprint,
        api.blueprint,
        analytics.blueprint,
        oauth_pages.blueprint,
        shops_page.blueprint,
    ):
        app.register_blueprint(blueprint)
    shop_context.add_shop_rules(app)  # every shop page again under /shops/<shop>


def _security_headers(response: Response) -> Response:
    headers: dict[str, Any] = {
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "same-origin",
        "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    }
    for name, value in headers.items():
        response.headers.setdefault(name, value)
    if response.mimetype in ("text/html", "application/json"):
        response.headers.setdefault("Cache-Control", "no-store")
    return response
