"""Connect a shop by OAuth (issue 18): "Add a shop" → "Connect Lightspeed/Square" → the vendor's
consent page → back here (`state` checked: one use, this session's, unexpired) → the shop's
page, its first import queued. And each shop's connections: token status, "Disconnect".

    GET  /shops/connect                          the form: a shop name, a button per vendor
    GET  /shops/connect/<vendor>?name=NAME       to the vendor's consent page
    GET  /oauth/<vendor>/callback                the vendor sends the owner back here
    GET  /shops/<name>/connections               token status per connection
    POST /shops/<name>/connections/<source>/disconnect   (Square: the tokens revoked too)

The callback is the one place the web layer calls a vendor: the code must be exchanged by the
process that receives it, within minutes.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

import psycopg
from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from possync.db.queries import query
from possync.errors import PossyncError
from possync.shops.model import Shop
from possync.shops.oauth.apps import VENDOR_TITLES, VENDORS, callback_url, oauth_app
from possync.shops.oauth.connect import (
    check_new_connection_name,
    finish_connect,
    start_consent,
    take_state,
)
from possync.shops.oauth.disconnect import disconnect
from possync.shops.registry import load_shops, registry_exists
from possync.sources.oauth.vendors import OAuthApp, OAuthClient
from possync.web.auth import logged_in_this_request
from possync.web.state import connection, has_connection, web_state

logger = logging.getLogger(__name__)
blueprint = Blueprint("oauth", __name__)


def _app_for(vendor: str) -> OAuthApp:
    if vendor not in VENDORS:
        abort(404)
    state = web_state()
    app = oauth_app(state.settings, vendor, callback_url(state.settings, vendor, request.url_root))
    if app is None:
        abort(
            400,
            description=f"{VENDOR_TITLES[vendor]} OAuth is not configured: see docs/oauth.md",
        )
    return app


def _session_id() -> str:
    sid = session.get("sid")
    if not isinstance(sid, str) or not sid:
        abort(400, description="Log in again, then connect the shop.")
    return sid


@blueprint.route("/shops/connect")
def connect_form() -> Response:
    settings = web_state().settings
    vendors = [(v, VENDOR_TITLES[v]) for v in VENDORS if oauth_app(settings, v) is not None]
    page = render_template("oauth/connect.html", vendors=vendors, name=request.args.get("name", ""))
    response = Response(page, mimetype="text/html")
    # The form's answer redirects to the vendor: CSP's form-action must allow its origin.
    origins = " ".join(
        sorted({_origin(a.authorize_url) for v in VENDORS if (a := oauth_app(settings, v))})
    )
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"object-src 'none'; base-uri 'none'; form-action 'self' {origins}; "
        "frame-ancestors 'none'"
    )
    return response


@blueprint.route("/shops/connect/<vendor>")
def start(vendor: str) -> Response:
    app = _app_for(vendor)
    name = request.args.get("name", "").strip().lower()
    try:
        check_new_connection_name(name)
    except PossyncError as exc:
        flash(str(exc), "error")
        return redirect(url_for("oauth.connect_form", name=name))
    state = start_consent(web_state().db, _session_id(), vendor, name)
    return redirect(app.consent_url(state))


@blueprint.route("/oauth/<vendor>/callback")
def callback(vendor: str) -> Response:
    app = _app_for(vendor)
    shop_name = take_state(web_state().db, _session_id(), vendor, request.args.get("state", ""))
    if shop_name is None:
        abort(400, description="This sign-in link expired or was already used: connect again.")
    if request.args.get("error"):
        flash(f"{VENDOR_TITLES[vendor]} did not allow the connection of {shop_name}.", "error")
        return redirect(url_for("oauth.connect_form", name=shop_name))
    code = request.args.get("code", "")
    if not code:
        abort(400, description=f"{VENDOR_TITLES[vendor]} sent no authorization code.")
    state = web_state()
    try:
        grant = OAuthClient(app).exchange_code(code, request.args.get("domain_prefix"))
        connected = finish_connect(state.db, state.settings, app, shop_name, grant)
        state.job_queue.enqueue_sync(vendor, shop=shop_name, trigger="connected")
    except PossyncError as exc:
        flash(f"Connecting {shop_name} failed: {exc}", "error")
        return redirect(url_for("oauth.connect_form", name=shop_name))
    verb = "added" if connected.created else "connected"
    flash(f"Shop {shop_name} {verb}: its first {VENDOR_TITLES[vendor]} import is queued.", "info")
    return redirect(_shop_page(shop_name))


@blueprint.route("/shops/<name>/connections")
def connections(name: str) -> str:
    shop = _registered_shop(name)
    titles = VENDOR_TITLES
    return render_template("oauth/connections.html", shop=shop, titles=titles, vendors=VENDORS)


@blueprint.route("/shops/<name>/connections/<source>/disconnect", methods=["POST"])
def disconnect_connection(name: str, source: str) -> Response:
    _registered_shop(name)
    state = web_state()
    try:
        revoked = disconnect(state.db, state.settings, name, source)
    except PossyncError as exc:
        flash(f"Disconnecting failed: {exc}", "error")
    else:
        done = " and its tokens revoked" if revoked else ""
        flash(f"{VENDOR_TITLES.get(source, source)} disconnected from {name}{done}.", "info")
    return redirect(url_for("oauth.connections", name=name))


def _registered_shop(name: str) -> Shop:
    conn = connection()
    shop = (
        next((s for s in load_shops(conn) if s.name == name), None)
        if registry_exists(conn)
        else None
    )
    if shop is None:
        abort(404)
    return shop


def _shop_page(name: str) -> str:
    """The shop's own page when the dashboard has one, else its connections."""
    path = f"/shops/{name}/"
    try:
        current_app.url_map.bind("localhost").match(path)
    except HTTPException:
        return url_for("oauth.connections", name=name)
    return path


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def connection_banner() -> list[dict[str, Any]]:
    """Every connection possync may no longer sign in with: one banner on every page."""
    if not has_connection() or not logged_in_this_request():
        return []
    try:
        conn = connection()
        if not registry_exists(conn):
            return []
        rows = conn.execute(query("broken_connections")).fetchall()
    except (PossyncError, psycopg.Error) as exc:
        logger.info("banner: connections unreadable (%s)", type(exc).__name__)
        return []
    return [
        {
            "shop": shop,
            "source": source,
            "title": VENDOR_TITLES.get(source, source),
            "status": status,
            "detail": detail,
        }
        for shop, source, status, detail in rows
    ]


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(connection_banner=connection_banner)
