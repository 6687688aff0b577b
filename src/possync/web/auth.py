"""Login with the configured password, sessions, CSRF tokens and login throttling.

- The password is compared in constant time (both sides hashed first, so even the length
  leaks nothing).
- The session cookie is signed, HttpOnly and SameSite=Lax (Secure with
  POSSYNC_SESSION_COOKIE_SECURE). It holds a keyed fingerprint of the password, so changing the
  password logs everyone out.
- Every POST must carry the session's CSRF token (form field `csrf_token` or header
  `X-CSRF-Token`), login included.
- After POSSYNC_LOGIN_MAX_FAILURES failures from one address within
  POSSYNC_LOGIN_LOCKOUT_SECONDS, that address is refused (HTTP 429) for that long.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.wrappers import Response as BaseResponse

from possync.web.state import close_connection, web_state

blueprint = Blueprint("auth", __name__)

# Endpoints reachable without a session.
PUBLIC_ENDPOINTS = frozenset({"auth.login", "api.healthz", "api.metrics", "static"})
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class LoginThrottle:
    """Failed logins per client address; thread-safe, in memory (one dashboard process)."""

    def __init__(
        self, max_failures: int, lockout_seconds: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.max_failures = max_failures
        self.lockout_seconds = lockout_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._failures: dict[str, list[float]] = {}
        self._locked_until: dict[str, float] = {}

    def retry_after(self, address: str) -> int:
        """Seconds until `address` may try again; 0 when it may now."""
        with self._lock:
            until = self._locked_until.get(address, 0.0)
            remaining = until - self._clock()
            if remaining <= 0:
                self._locked_until.pop(address, None)
                return 0
            return int(remaining) + 1

    def record_failure(self, address: str) -> None:
        now = self._clock()
        with self._lock:
            recent = [t for t in self._failures.get(address, []) if now - t < self.lockout_seconds]
            recent.append(now)
            if len(recent) >= self.max_failures:
                self._locked_until[address] = now + self.lockout_seconds
                recent = []
            self._failures[address] = recent

    def record_success(self, address: str) -> None:
        with self._lock:
            self._failures.pop(address, None)


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


def is_logged_in() -> bool:
    stored = session.get("auth")
    return isinstance(stored, str) and hmac.compare_digest(stored, _session_fingerprint())


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
    if request.path.startswith("/api/"):
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
        message = f"Too many failed attempts. Try again in {wait} seconds."
        page = render_template("auth/login.html", next_url=next_url, error=message)
        return page, 429, {"Retry-After": str(wait)}
    if not password_matches(request.form.get("password", ""), _expected_password()):
        _throttle().record_failure(address)
        page = render_template("auth/login.html", next_url=next_url, error="Wrong password.")
        return page, 401, {}
    _throttle().record_success(address)
    session.clear()
    session.permanent = True
    session["auth"] = _session_fingerprint()
    csrf_token()  # a fresh token for the new session
    return redirect(next_url)


@blueprint.route("/logout", methods=["POST"])
def logout() -> Response | BaseResponse:
    """End the session."""
    session.clear()
    return redirect(url_for("auth.login"))


def init_app(app: Flask) -> None:
    """Login and CSRF checks for every request; `csrf_token()` in templates."""
    settings = app.extensions["possync"].settings
    app.extensions["possync_login_throttle"] = LoginThrottle(
        settings.login_max_failures, settings.login_lockout_seconds
    )
    app.before_request(check_csrf)
    app.before_request(require_login)
    app.teardown_appcontext(close_connection)
    app.jinja_env.globals.update(csrf_token=csrf_token, logged_in=is_logged_in)
