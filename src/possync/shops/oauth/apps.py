"""possync's OAuth app at each vendor, built from the settings (None: not configured)."""

from __future__ import annotations

from possync.config.settings import Settings
from possync.sources.oauth.vendors import OAuthApp

VENDORS = ("lightspeed", "square")
CALLBACK_PATH = "/oauth/{vendor}/callback"
VENDOR_TITLES = {"lightspeed": "Lightspeed", "square": "Square"}


def callback_url(settings: Settings, vendor: str, request_root: str) -> str:
    """Where the vendor sends the shop owner back: under POSSYNC_PUBLIC_URL, else under the
    address this request came to (`request_root`)."""
    root = (settings.public_url or request_root).rstrip("/")
    return root + CALLBACK_PATH.format(vendor=vendor)


def oauth_app(settings: Settings, vendor: str, redirect_uri: str = "") -> OAuthApp | None:
    """The vendor's app, or None when its client id or secret is not set."""
    if vendor == "lightspeed":
        secret = settings.lightspeed_client_secret
        if not settings.lightspeed_client_id or secret is None:
            return None
        return OAuthApp(
            vendor="lightspeed",
            client_id=settings.lightspeed_client_id,
            client_secret=secret,
            authorize_url=settings.lightspeed_authorize_url,
            token_base=settings.lightspeed_store_url,
            redirect_uri=redirect_uri,
        )
    if vendor == "square":
        secret = settings.square_application_secret
        if not settings.square_application_id or secret is None:
            return None
        base = settings.square_url.rstrip("/")
        return OAuthApp(
            vendor="square",
            client_id=settings.square_application_id,
            client_secret=secret,
            authorize_url=base + "/oauth2/authorize",
            token_base=base,
            redirect_uri=redirect_uri,
        )
    return None


def configured_vendors(settings: Settings) -> tuple[str, ...]:
    """The vendors whose OAuth app the settings configure."""
    return tuple(v for v in VENDORS if oauth_app(settings, v) is not None)
