"""Disconnect a shop's source: Square's tokens revoked at Square first (Lightspeed documents
no revoke endpoint: the owner removes the app in Lightspeed), then the connection forgotten.
The shop and its data stay."""

from __future__ import annotations

from possync.config.settings import Settings
from possync.db.connection import Database
from possync.db.queries import query
from possync.errors import ConfigError
from possync.shops.oauth.apps import oauth_app
from possync.shops.oauth.tokens import read_tokens
from possync.sources.oauth.vendors import OAuthClient


def disconnect(control: Database, settings: Settings, shop_name: str, source: str) -> bool:
    """Forget the connection; True when its tokens were revoked at the vendor too."""
    revoked = False
    tokens = read_tokens(control, settings, shop_name, source)
    app = oauth_app(settings, source)
    if tokens.auth == "oauth" and source == "square" and tokens.status == "ok":
        if app is None:
            raise ConfigError("Square OAuth is not configured: cannot revoke the tokens")
        OAuthClient(app).revoke(tokens.access_token)
        revoked = True
    with control.connect() as conn:
        conn.execute(query("delete_shop_connection"), (shop_name, source))
        conn.commit()
    return revoked
