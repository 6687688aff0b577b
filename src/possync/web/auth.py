"""Login with the configured password, sessions, CSRF tokens and login throttling.

- The password is compared in constant time (both sides hashed first, so even the length
  leaks nothing).
- The session cookie is signed, HttpOnly and SameSite=Lax (Secure with
  POSSYNC_SESSION_COOKIE_SECURE). It holds a keyed fingerprint of the password, so changing the
  password logs everyone out, and a session id checked against PostgreSQL on every request
  (`sessions.py`), so logout and POSSYNC_SESSION_IDLE_MINUTES really end a session.
- Every POST must carry the session's CSRF token (form field `csrf_token` or header
  `X-CSRF-Token`), login included.
- Failed logins slow down per address and in total (`throttle.py`), never for minutes.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.wrappers import Response as BaseResponse

from possync.web.sessions import end_session, session_is_alive, start_session
from possync.web.shop_context import local_path
from possync.web.state import close_connection, connection, web_state
from possync.web.throttle import LoginThrottle

blueprint = Blueprint("auth", __name__)

# Endpoints reachable without a session.
PUBLIC_ENDPOINTS = frozenset({"auth.login", "api.healthz", "api.metrics", "static"})
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def password_matches(given: str, expected: str) -> bool:
    """Constant-time comparison that also hides the expected length."""
    return hmac.compare_digest(
        hashlib.sha256(given.encode()).digest(), hashlib.sha256(expected.encode()).digest()
    )


def _expected_password() -> str:
    password = web_state().settings.dashboard_password
    return password.get_secret_value() if password is not None else ""


def _session_fingerprint() -> str:
    """Ties a session to the current password and secret key."""
    key = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, _expected_password().encode(), hashlib.sha256).hexdigest()


def has_signed_session() -> bool:
    """The cookie was issued by this dashboard for the current password (it may since have
    been logged out: only `is_logged_in` asks the database). Decides who may read the details
    of a database failure, when the database cannot be asked."""
    stored = session.get("auth")
    return isinstance(stored, str) and hmac.compare_digest(stored, _session_fingerprint())


def is_logged_in() -> bool:
    """A signed cookie whose session is still alive in the database (once per request)."""
    cached = g.get("possync_logged_in")
    if cached is None:
        session_id = session.get("sid")
        cached = (
            has_signed_session()
            and isinstance(session_id, str)
            and session_is_alive(
                connection(), session_id, _idle_timeout(), refresh=not _is_background_poll()
            )
        )
        g.possync_logged_in = cached
    return bool(cached)


def logged_in_this_request() -> bool:
    """What this request found; False when it could not ask (an error page, the database
    down), never a new database query from inside a template."""
    return bool(g.get("possync_logged_in", False))


def _idle_timeout() -> timedelta:
    return timedelta(minutes=web_state().settings.session_idle_minutes)


def _is_background_poll() -> bool:
    """The overview's polling of /api/status: not a sign that someone is at the screen."""
    return request.method == "GET" and local_path().startswith("/api/")


def csrf_token() -> str:
    """The session's CSRF token (created on first use); templates call it."""
    token = session.get("csrf")
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return token


def _throttle() -> LoginThrottle:
    throttle: LoginThrottle = current_app.extensions["possync_login_throttle"]
    return throttle


def _client_address() -> str:
    return request.remote_addr or "unknown"


def require_login() -> BaseResponse | None:
    """Before every request: the session or the login page (401 for the JSON API)."""
    if request.endpoint in PUBLIC_ENDPOINTS or request.endpoint is None:
        return None
    if is_logged_in():
        return None
    if local_path().startswith("/api/"):
        response = jsonify(error="log in first", login=url_for("auth.login"))
        response.status_code = 401
        return response
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def check_csrf() -> None:
    """Before every request: unsafe methods need the session's token."""
    if request.method not in UNSAFE_METHODS:
        return
    sent = request.form.get("csrf_token") or request.headers.get("X-CSRF-Token") or ""
    expected = session.get("csrf")
    if not isinstance(expected, str) or not expected or not hmac.compare_digest(sent, expected):
        abort(400, description="The form expired or lacks its security token: reload the page.")


def _safe_next(target: str | None) -> str:
    """Only same-site paths, never //host or scheme URLs, nor control characters (a CR/LF
    cannot go into a Location header, and a backslash reads as a slash to browsers)."""
    if not target or not target.isprintable() or "\\" in target:
        return url_for("overview.index")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("overview.index")
    return target


@blueprint.route("/login", methods=["GET", "POST"])
def login() -> BaseResponse | str | tuple[str, int, dict[str, str]]:
    """The login form; a correct password starts a session."""
    next_url = _safe_next(request.values.get("next"))
    if request.method == "GET":
        if is_logged_in():
            return redirect(next_url)
        return render_template("auth/login.html", next_url=next_url, error=None)
    address = _client_address()
    wait = _throttle().retry_after(address)
    if wait:
        unit = "second" if wait == 1 else "seconds"
        message = f"Too many failed attempts. Try again in {wait} {unit}."
        page = render_template("auth/login.html", next_url=next_url, error=message)
        return page, 429, {"Retry-After": str(wait)}
    if not password_matches(request.form.get("password", ""), _expected_password()):
        _throttle().record_failure(address)
        page = render_template("auth/login.html", next_url=next_url, error="Wrong password.")
        return page, 401, {}
    _throttle().record_success(address)
    # The database first: if it fails, the cookie stays as it was (anonymous).
    new_session = start_session(connection(), _idle_timeout())
    old_session = session.get("sid")
    if isinstance(old_session, str):
        end_session(connection(), old_session)
    session.clear()
    session.permanent = True
    session["auth"] = _session_fingerprint()
    session["sid"] = new_session
    g.possync_logged_in = True
    csrf_token()  # a fresh token for the new session
    return redirect(next_url)


@blueprint.route("/logout", methods=["POST"])
def logout() -> Response | BaseResponse:
    """End the session: its id is deleted, so a copy of the cookie opens nothing."""
    session_id = session.get("sid")
    if isinstance(session_id, str):
        end_session(connection(), session_id)
    session.clear()
    g.possync_logged_in = False
    return redirect(url_for("auth.login"))


def init_app(app: Flask) -> None:
    """Login and CSRF checks for every request; `csrf_token()` in templates."""
    settings = app.extensions["possync"].settings
    app.extensions["possync_login_throttle"] = LoginThrottle(
        settings.login_max_delay_seconds, settings.login_attempts_per_minute
    )
    app.before_request(check_csrf)
    app.before_request(require_login)
    app.teardown_appcontext(close_connection)
    app.jinja_env.globals.update(csrf_token=csrf_token, logged_in=logged_in_this_request)
