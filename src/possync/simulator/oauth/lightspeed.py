"""Lightspeed X-Series OAuth 2.0, simulated: `GET /connect` and `POST /api/1.0/token`.

As documented (../shared/reference/oauth-notes.md): authorization code only; `scope` is
mandatory; the redirect carries `code`, `domain_prefix` and `state`; the token endpoint takes a
form body only and answers `access_token`, `token_type`, `expires` (Unix time), `expires_in`,
`refresh_token`, `domain_prefix` and `scope`; each refresh returns a new refresh token and
retires the one used. Errors have OAuth's shape: `{"error": ..., "error_description": ...}`.
"""

from __future__ import annotations

import hmac
from typing import Any

import orjson
from werkzeug.wrappers import Request, Response

from possync.simulator.oauth.consent import (
    ConsentError,
    chosen_store,
    consent_page,
    error_page,
    read_consent_request,
    redirect_back,
)
from possync.simulator.oauth.grants import GrantRefused, IssuedTokens, OAuthAuthority
from possync.simulator.stores import domain_prefix

VENDOR = "lightspeed"
CONNECT_PATH = "/connect"
TOKEN_PATH = "/api/1.0/token"
PAGE_TITLE = "Lightspeed Retail (simulated): connect an app"


class LightspeedOAuth:
    """The consent page and token endpoint of the simulated Lightspeed OAuth server."""

    def __init__(self, authority: OAuthAuthority, client_secret: str, stores: int) -> None:
        self.authority = authority
        self.client_secret = client_secret
        self.stores = stores

    def connect(self, request: Request) -> Response:
        """GET: the consent page. POST (its form): redirect back with a code, or a refusal."""
        try:
            if request.method == "GET":
                consent = read_consent_request(request.args, extra_names=("response_type",))
                if consent.extra.get("response_type") != "code":
                    raise ConsentError("response_type must be code")
                return consent_page(PAGE_TITLE, consent, CONNECT_PATH, self.stores)
            consent = read_consent_request(request.form, extra_names=())
            if request.form.get("decision") != "allow":
                return redirect_back(
                    consent.redirect_uri, {"error": "access_denied", "state": consent.state}
                )
            store = chosen_store(request.form, self.stores)
        except ConsentError as exc:
            return error_page(PAGE_TITLE, str(exc))
        code = self.authority.issue_code(
            VENDOR, store, consent.client_id, consent.redirect_uri, consent.scope
        )
        params = {"code": code, "domain_prefix": domain_prefix(store), "state": consent.state}
        return redirect_back(consent.redirect_uri, params)

    def token(self, request: Request, prefix_store: int | None) -> Response:
        """Exchange a code or a refresh token (form body only). `prefix_store` is the store
        named by the URL's domain-prefix segment, if the request came through one."""
        if request.method != "POST":
            return _error(405, "invalid_request", "use POST")
        if request.mimetype != "application/x-www-form-urlencoded":
            return _error(400, "invalid_request", "send a form-encoded body")
        form = request.form
        client_id = form.get("client_id", "")
        if not client_id:
            return _error(400, "invalid_request", "client_id is required")
        secret = form.get("client_secret", "").encode()
        if not hmac.compare_digest(secret, self.client_secret.encode()):
            return _error(401, "invalid_client", "client authentication failed")
        grant_type = form.get("grant_type", "")
        try:
            if grant_type == "authorization_code":
                tokens = self.authority.exchange_code(
                    VENDOR,
                    form.get("code", ""),
                    client_id,
                    form.get("redirect_uri"),
                    store=prefix_store,
                )
            elif grant_type == "refresh_token":
                tokens = self.authority.refresh(
                    VENDOR,
                    form.get("refresh_token", ""),
                    client_id,
                    rotate=True,
                    store=prefix_store,
                )
            else:
                return _error(
                    400, "unsupported_grant_type", "use authorization_code or refresh_token"
                )
        except GrantRefused as exc:
            return _error(400, "invalid_grant", str(exc))
        return _json(200, self._token_body(tokens))

    def _token_body(self, tokens: IssuedTokens) -> dict[str, Any]:
        now = self.authority.now()
        return {
            "access_token": tokens.access_token,
            "token_type": "Bearer",
            "expires": int(tokens.expires_at.timestamp()),
            "expires_in": int((tokens.expires_at - now).total_seconds()),
            "refresh_token": tokens.refresh_token,
            "domain_prefix": domain_prefix(tokens.store),
            "scope": tokens.scope,
        }


def _error(status: int, error: str, description: str) -> Response:
    return _json(status, {"error": error, "error_description": description})


def _json(status: int, body: Any) -> Response:
    response = Response(orjson.dumps(body), status=status, mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    return response
