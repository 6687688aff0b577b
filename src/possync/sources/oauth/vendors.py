"""The two vendors' OAuth endpoints: where the consent page is, and the code exchange, refresh
and revoke calls (../shared/reference/oauth-notes.md).

Lightspeed X-Series: consent at the authorize URL; token endpoint `/api/1.0/token` under the
store's own address, form body only; refresh tokens rotate (each refresh retires the one used).
Square (code flow): `/oauth2/authorize`, `/oauth2/token` (JSON body), `/oauth2/revoke`
(`Authorization: Client <secret>`) under POSSYNC_SQUARE_URL; the refresh token is reusable.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx
from pydantic import SecretStr

from possync.errors import ConfigError
from possync.sources.http import USER_AGENT
from possync.sources.oauth.grants import (
    READ_SCOPES,
    AppCredentialsRefused,
    GrantRefused,
    OAuthUnavailable,
    TokenGrant,
    local_expiry,
)

LIGHTSPEED_TOKEN_PATH = "/api/1.0/token"
LIGHTSPEED_API_PATH = "/api/2.0"
TIMEOUT = httpx.Timeout(30.0, connect=10.0)


@dataclass(frozen=True)
class OAuthApp:
    """possync's app at one vendor: its credentials and that vendor's addresses.

    `authorize_url`: the consent page. `token_base`: Lightspeed's store address template (with
    `{domain_prefix}`), or Square's base URL."""

    vendor: str  # "lightspeed" or "square"
    client_id: str
    client_secret: SecretStr
    authorize_url: str
    token_base: str
    redirect_uri: str

    def consent_url(self, state: str) -> str:
        """Where the shop owner allows possync to read: read scopes only, our `state`."""
        params = {"client_id": self.client_id, "scope": READ_SCOPES[self.vendor], "state": state}
        if self.vendor == "lightspeed":
            params = {"response_type": "code", **params, "redirect_uri": self.redirect_uri}
        else:
            params = {**params, "session": "false", "redirect_uri": self.redirect_uri}
        return f"{self.authorize_url}?{urlencode(params)}"

    def store_url(self, domain_prefix: str | None) -> str:
        """Lightspeed: the connected store's address; Square: its base URL."""
        if self.vendor != "lightspeed":
            return self.token_base.rstrip("/")
        if not domain_prefix or not domain_prefix.replace("-", "a").isalnum():
            raise ConfigError("Lightspeed sent no valid domain_prefix with the code")
        return self.token_base.replace("{domain_prefix}", domain_prefix.lower()).rstrip("/")

    def api_url(self, domain_prefix: str | None) -> str:
        """The API base a connection syncs from."""
        base = self.store_url(domain_prefix)
        return base + LIGHTSPEED_API_PATH if self.vendor == "lightspeed" else base


class OAuthClient:
    """Calls one vendor's token endpoints (inject `transport` in tests; `now` is our clock)."""

    def __init__(self, app: OAuthApp, *, transport: httpx.BaseTransport | None = None) -> None:
        self.app = app
        self._transport = transport

    def exchange_code(self, code: str, domain_prefix: str | None = None) -> TokenGrant:
        """The tokens for the code the consent page sent back."""
        return self._token(
            domain_prefix,
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": self.app.redirect_uri,
            },
        )

    def refresh(self, refresh_token: SecretStr, domain_prefix: str | None = None) -> TokenGrant:
        """A new access token (and, for Lightspeed, a new refresh token: the old one is dead
        once this returns). GrantRefused when the vendor refuses the refresh token."""
        return self._token(
            domain_prefix,
            {"grant_type": "refresh_token", "refresh_token": refresh_token.get_secret_value()},
        )

    def revoke(self, access_token: SecretStr) -> None:
        """Square: end every token possync holds for the seller. Lightspeed documents no
        revoke endpoint (disconnecting forgets the tokens; the owner removes the app)."""
        if self.app.vendor != "square":
            return
        response = self._post(
            self.app.store_url(None) + "/oauth2/revoke",
            json={"client_id": self.app.client_id, "access_token": access_token.get_secret_value()},
            headers={"Authorization": f"Client {self.app.client_secret.get_secret_value()}"},
        )
        if response.status_code >= 400:
            raise OAuthUnavailable(
                f"Square refused to revoke the token (HTTP {response.status_code})"
            )

    def _token(self, domain_prefix: str | None, grant: dict[str, str]) -> TokenGrant:
        credentials = {
            "client_id": self.app.client_id,
            "client_secret": self.app.client_secret.get_secret_value(),
        }
        if self.app.vendor == "lightspeed":
            url = self.app.store_url(domain_prefix) + LIGHTSPEED_TOKEN_PATH
            response = self._post(url, data={**credentials, **grant})  # form body only
        else:
            response = self._post(
                self.app.store_url(None) + "/oauth2/token", json={**credentials, **grant}
            )
        body = _answer(response, self.app.vendor)
        return _grant_from(self.app.vendor, response, body, domain_prefix)

    def _post(self, url: str, **kwargs: Any) -> httpx.Response:
        try:
            with httpx.Client(
                transport=self._transport, timeout=TIMEOUT, headers={"User-Agent": USER_AGENT}
            ) as client:
                return client.post(url, **kwargs)
        except httpx.HTTPError as exc:
            raise OAuthUnavailable(
                f"{self.app.vendor} token endpoint unreachable: {type(exc).__name__}"
            ) from None


def _answer(response: httpx.Response, vendor: str) -> dict[str, Any]:
    """The token endpoint's JSON, or why not (refused grant, refused app, unavailable)."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        body = {}
    status = response.status_code
    if status == 200 and body.get("access_token"):
        return body
    # Lightspeed: {"error", "error_description"}; Square: {"message", "type"} (legacy shape).
    kind = str(body.get("error") or body.get("type") or "")
    detail = str(body.get("error_description") or body.get("message") or f"HTTP {status}")
    if kind == "invalid_grant" or (vendor == "square" and status == 400):
        raise GrantRefused(f"{vendor} refused the grant: {detail[:200]}")
    if status in (401, 403) or kind in ("invalid_client", "service.not_authorized"):
        raise AppCredentialsRefused(
            f"{vendor} refused possync's app credentials: check the client id and secret settings"
        )
    raise OAuthUnavailable(f"{vendor} token endpoint failed: {kind or 'HTTP ' + str(status)}")


def _grant_from(
    vendor: str, response: httpx.Response, body: dict[str, Any], domain_prefix: str | None
) -> TokenGrant:
    now = datetime.now(UTC)
    expires_at: datetime | None = None
    if vendor == "lightspeed" and isinstance(body.get("expires"), int | float):
        vendor_expiry = datetime.fromtimestamp(body["expires"], UTC)  # the notes: trust it
        expires_at = local_expiry(response, vendor_expiry, now)
    elif vendor == "lightspeed" and isinstance(body.get("expires_in"), int | float):
        expires_at = now + timedelta(seconds=float(body["expires_in"]))
    elif isinstance(body.get("expires_at"), str):
        vendor_expiry = datetime.fromisoformat(body["expires_at"].replace("Z", "+00:00"))
        expires_at = local_expiry(response, vendor_expiry, now)
    refresh = body.get("refresh_token")
    return TokenGrant(
        access_token=SecretStr(str(body["access_token"])),
        refresh_token=SecretStr(str(refresh)) if refresh else None,
        expires_at=expires_at,
        domain_prefix=str(body.get("domain_prefix") or domain_prefix or "") or None,
        merchant_id=str(body["merchant_id"]) if body.get("merchant_id") else None,
    )
