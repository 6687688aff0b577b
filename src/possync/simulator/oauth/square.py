"""Square OAuth, simulated (code flow): `GET /oauth2/authorize`, `POST /oauth2/token`,
`POST /oauth2/revoke`.

As documented (../shared/reference/oauth-notes.md): codes single use, five minutes; access
tokens 30 days with `expires_at` (RFC 3339) and `merchant_id`; the code flow's refresh token is
reusable; revoke takes `Authorization: Client <secret>` and `client_id` with `access_token` or
`merchant_id`, and revokes all of the app's tokens for that seller. Square's OAuth endpoints
answer errors in their own legacy shape, `{"message": ..., "type": ...}`: wrong client secret
401 `service.not_authorized`, anything else 400 `bad_request`. The simulator has no app
registry, so the authorize request must carry `redirect_uri`.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
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

VENDOR = "square"
AUTHORIZE_PATH = "/oauth2/authorize"
PAGE_TITLE = "Square (simulated): connect an app"


class SquareOAuth:
    """The consent page, token and revoke endpoints of the simulated Square OAuth server."""

    def __init__(
        self,
        authority: OAuthAuthority,
        client_secret: str,
        stores: int,
        merchant_of: Callable[[int], str],
        store_of_merchant: Callable[[str], int | None],
    ) -> None:
        self.authority = authority
        self.client_secret = client_secret
        self.stores = stores
        self._merchant_of = merchant_of
        self._store_of_merchant = store_of_merchant

    def authorize(self, request: Request) -> Response:
        """GET: the consent page. POST (its form): redirect back with a code, or a refusal."""
        try:
            if request.method == "GET":
                consent = read_consent_request(request.args, extra_names=("session",))
                return consent_page(PAGE_TITLE, consent, AUTHORIZE_PATH, self.stores)
            consent = read_consent_request(request.form, extra_names=())
            if request.form.get("decision") != "allow":
                return redirect_back(
                    consent.redirect_uri,
                    {
                        "error": "access_denied",
                        "error_description": "user_denied",
                        "state": consent.state,
                    },
                )
            store = chosen_store(request.form, self.stores)
        except ConsentError as exc:
            return error_page(PAGE_TITLE, str(exc))
        code = self.authority.issue_code(
            VENDOR, store, consent.client_id, consent.redirect_uri, consent.scope
        )
        params = {"code": code, "response_type": "code", "state": consent.state}
        return redirect_back(consent.redirect_uri, params)

    def token(self, request: Request) -> Response:
        """ObtainToken: a code or a (reusable) refresh token for an access token."""
        body, problem = _json_body(request)
        if problem is not None:
            return problem
        if not self._secret_matches(str(body.get("client_secret", ""))):
            return _error(401, "service.not_authorized", "Not Authorized")
        client_id = str(body.get("client_id", ""))
        if not client_id:
            return _error(400, "bad_request", "client_id is required")
        grant_type = body.get("grant_type")
        try:
            if grant_type == "authorization_code":
                redirect_uri = body.get("redirect_uri")
                tokens = self.authority.exchange_code(
                    VENDOR,
                    str(body.get("code", "")),
                    client_id,
                    str(redirect_uri) if redirect_uri is not None else None,
                )
            elif grant_type == "refresh_token":
                tokens = self.authority.refresh(
                    VENDOR, str(body.get("refresh_token", "")), client_id, rotate=False
                )
            else:
                return _error(
                    400, "bad_request", "grant_type must be authorization_code or refresh_token"
                )
        except GrantRefused as exc:
            return _error(400, "bad_request", str(exc))
        return _json(200, self._token_body(tokens))

    def revoke(self, request: Request) -> Response:
        """RevokeToken: every token the app holds for the seller stops working."""
        scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
        if scheme != "Client" or not self._secret_matches(secret.strip()):
            return _error(401, "service.not_authorized", "Not Authorized")
        body, problem = _json_body(request)
        if problem is not None:
            return problem
        client_id = str(body.get("client_id", ""))
        access_token = body.get("access_token")
        merchant_id = body.get("merchant_id")
        if not client_id or (access_token is None) == (merchant_id is None):
            return _error(400, "bad_request", "send client_id and access_token or merchant_id")
        if access_token is not None:
            store = self.authority.store_of_access_token(VENDOR, str(access_token))
        else:
            store = self._store_of_merchant(str(merchant_id))
        if store is None:
            return _error(400, "bad_request", "no such access token or merchant")
        self.authority.revoke(VENDOR, client_id, store)
        return _json(200, {"success": True})

    def _secret_matches(self, secret: str) -> bool:
        return hmac.compare_digest(secret.encode(), self.client_secret.encode())

    def _token_body(self, tokens: IssuedTokens) -> dict[str, Any]:
        return {
            "access_token": tokens.access_token,
            "token_type": "bearer",
            "expires_at": tokens.expires_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "merchant_id": self._merchant_of(tokens.store),
            "refresh_token": tokens.refresh_token,
            "short_lived": False,
        }


def _json_body(request: Request) -> tuple[dict[str, Any], Response | None]:
    if request.method != "POST":
        return {}, _error(405, "bad_request", "use POST")
    try:
        body = orjson.loads(request.get_data() or b"null")
    except orjson.JSONDecodeError:
        body = None
    if not isinstance(body, dict):
        return {}, _error(400, "bad_request", "send a JSON object")
    return body, None


def _error(status: int, kind: str, message: str) -> Response:
    return _json(status, {"message": message, "type": kind})


def _json(status: int, body: Any) -> Response:
    return Response(orjson.dumps(body), status=status, mimetype="application/json")
