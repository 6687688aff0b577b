"""The OAuth protocol calls on their own (`possync.sources.oauth`), against a scripted token
endpoint: what is sent where, how each refusal is read, expiry moved onto our clock."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from pydantic import SecretStr

from possync.sources.oauth.grants import AppCredentialsRefused, GrantRefused, OAuthUnavailable
from possync.sources.oauth.renewing import RenewingTransport
from possync.sources.oauth.vendors import OAuthApp, OAuthClient

LIGHTSPEED = OAuthApp(
    vendor="lightspeed",
    client_id="app-1",
    client_secret=SecretStr("s3cret"),
    authorize_url="https://secure.retail.lightspeed.app/connect",
    token_base="https://{domain_prefix}.retail.lightspeed.app",
    redirect_uri="https://possync.example/oauth/lightspeed/callback",
)
SQUARE = OAuthApp(
    vendor="square",
    client_id="sq0idp-1",
    client_secret=SecretStr("sq-secret"),
    authorize_url="https://connect.squareup.com/oauth2/authorize",
    token_base="https://connect.squareup.com",
    redirect_uri="https://possync.example/oauth/square/callback",
)
VENDOR_NOW = datetime(2026, 11, 1, 12, tzinfo=UTC)  # a vendor clock a month behind ours


def test_consent_urls_ask_for_read_scopes_only_with_our_state() -> None:
    for app in (LIGHTSPEED, SQUARE):
        url = urlsplit(app.consent_url("st-42"))
        params = {k: v[0] for k, v in parse_qs(url.query).items()}
        assert f"{url.scheme}://{url.netloc}{url.path}" == app.authorize_url
        assert params["client_id"] == app.client_id and params["state"] == "st-42"
        assert params["redirect_uri"] == app.redirect_uri
        scopes = params["scope"].split()
        assert scopes and all(s.endswith((":read", "_READ")) for s in scopes)
    lightspeed = parse_qs(urlsplit(LIGHTSPEED.consent_url("x")).query)
    assert lightspeed["response_type"] == ["code"] and "sales:read" in lightspeed["scope"][0]
    assert "MERCHANT_PROFILE_READ" in parse_qs(urlsplit(SQUARE.consent_url("x")).query)["scope"][0]


def test_lightspeed_exchanges_a_form_at_the_stores_token_endpoint() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        body = {
            "access_token": "lsat_1",
            "token_type": "Bearer",
            "expires": int((VENDOR_NOW + timedelta(days=7)).timestamp()),
            "expires_in": 604800,
            "refresh_token": "lsrt_1",
            "domain_prefix": "corner",
        }
        return httpx.Response(200, json=body, headers={"Date": format_datetime(VENDOR_NOW, True)})

    client = OAuthClient(LIGHTSPEED, transport=httpx.MockTransport(answer))
    before = datetime.now(UTC)
    grant = client.exchange_code("the-code", "corner")
    (request,) = seen
    assert str(request.url) == "https://corner.retail.lightspeed.app/api/1.0/token"
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
    assert form == {
        "client_id": "app-1",
        "client_secret": "s3cret",
        "grant_type": "authorization_code",
        "code": "the-code",
        "redirect_uri": LIGHTSPEED.redirect_uri,
    }
    assert grant.access_token.get_secret_value() == "lsat_1"
    assert grant.refresh_token is not None and grant.refresh_token.get_secret_value() == "lsrt_1"
    assert grant.domain_prefix == "corner"
    # Seven days from now on our clock, although the vendor's says November.
    assert grant.expires_at is not None
    assert before + timedelta(days=7) <= grant.expires_at <= datetime.now(UTC) + timedelta(days=7)
    assert LIGHTSPEED.api_url("corner") == "https://corner.retail.lightspeed.app/api/2.0"


def test_square_refreshes_with_json_and_revokes_with_the_client_header() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/oauth2/revoke":
            return httpx.Response(200, json={"success": True})
        body = {
            "access_token": "EAAA-2",
            "expires_at": "2026-12-01T12:00:00Z",
            "merchant_id": "M1",
            "refresh_token": "EQAA-1",
        }
        return httpx.Response(200, json=body, headers={"Date": format_datetime(VENDOR_NOW, True)})

    client = OAuthClient(SQUARE, transport=httpx.MockTransport(answer))
    grant = client.refresh(SecretStr("EQAA-1"))
    client.revoke(grant.access_token)
    token_call, revoke_call = seen
    assert token_call.url.path == "/oauth2/token"
    assert json.loads(token_call.content) == {
        "client_id": "sq0idp-1",
        "client_secret": "sq-secret",
        "grant_type": "refresh_token",
        "refresh_token": "EQAA-1",
    }
    assert grant.merchant_id == "M1" and grant.expires_at is not None
    assert timedelta(days=29.9) < grant.expires_at - datetime.now(UTC) <= timedelta(days=30)
    assert revoke_call.headers["Authorization"] == "Client sq-secret"
    assert json.loads(revoke_call.content) == {"client_id": "sq0idp-1", "access_token": "EAAA-2"}


@pytest.mark.parametrize(
    ("app", "status", "body", "raised"),
    [
        (LIGHTSPEED, 400, {"error": "invalid_grant", "error_description": "used"}, GrantRefused),
        (LIGHTSPEED, 401, {"error": "invalid_client"}, AppCredentialsRefused),
        (LIGHTSPEED, 503, {}, OAuthUnavailable),
        (SQUARE, 400, {"message": "revoked", "type": "bad_request"}, GrantRefused),
        (SQUARE, 401, {"message": "Not Authorized", "type": "service.not_authorized"},
         AppCredentialsRefused),
    ],
)  # fmt: skip
def test_refusals_are_told_apart(
    app: OAuthApp, status: int, body: dict[str, str], raised: type[Exception]
) -> None:
    client = OAuthClient(
        app, transport=httpx.MockTransport(lambda _: httpx.Response(status, json=body))
    )
    with pytest.raises(raised) as caught:
        client.refresh(SecretStr("the-refresh-token"), "corner")
    secret = app.client_secret.get_secret_value()
    assert "the-refresh-token" not in str(caught.value) and secret not in str(caught.value)


def test_a_401_renews_the_token_once_and_later_requests_carry_the_new_one() -> None:
    tokens: list[str] = []

    def api(request: httpx.Request) -> httpx.Response:
        tokens.append(request.headers["Authorization"])
        ok = request.headers["Authorization"] == "Bearer fresh"
        return httpx.Response(200 if ok else 401, json={})

    renewals: list[str] = []

    def renew(refused: str) -> str | None:
        renewals.append(refused)
        return "fresh"

    transport = RenewingTransport("stale", renew, httpx.MockTransport(api))
    with httpx.Client(transport=transport, headers={"Authorization": "Bearer stale"}) as client:
        assert client.get("https://api.example/a").status_code == 200
        assert client.get("https://api.example/b").status_code == 200
    assert tokens == ["Bearer stale", "Bearer fresh", "Bearer fresh"] and renewals == ["stale"]

    refused = RenewingTransport("stale", lambda _: None, httpx.MockTransport(api))
    with httpx.Client(transport=refused) as client:
        assert client.get("https://api.example/a").status_code == 401
