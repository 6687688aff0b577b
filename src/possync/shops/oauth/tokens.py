"""A shop's OAuth tokens kept alive, one refresh per connection at a time across all workers.

`renew_connection` locks the connection's row (SELECT … FOR UPDATE, its own transaction), so
a second worker waits, then finds the tokens the first one stored and uses those: a rotated
Lightspeed refresh token is never sent twice. The new tokens are committed before anyone uses
them. A refusal (`invalid_grant`) is re-read before it is believed: another process may have
rotated the token outside the lock. A connection refused for good is marked `revoked` (or
`failed`: the app's own credentials refused) with what to do, and every run of it fails with
that message, which the sync's alert carries (one incident, so one alert).

Refreshed before they lapse (`refresh_due`, as a job or command resolves its shop): Lightspeed
a day before expiry, Square at least every 7 days as Square advises. Renewed when the API
refuses them (`renewing_source`): the vendor's clock may be ahead of ours.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx
import psycopg
from pydantic import SecretStr

from possync.config.settings import Settings
from possync.db.connection import Database
from possync.db.queries import query
from possync.errors import AuthError, ConfigError
from possync.shops.model import Connection, Shop
from possync.shops.oauth.apps import VENDOR_TITLES, oauth_app
from possync.shops.secrets import NO_KEY, TokenCipher
from possync.sources.base import Source
from possync.sources.oauth.grants import AppCredentialsRefused, GrantRefused, OAuthUnavailable
from possync.sources.oauth.renewing import RenewingTransport
from possync.sources.oauth.vendors import OAuthClient
from possync.sources.registry import open_source

logger = logging.getLogger(__name__)

EXPIRY_MARGIN = timedelta(days=1)
SQUARE_REFRESH_EVERY = timedelta(days=6)  # Square: refresh at least every 7 days
REREAD_PAUSE_SECONDS = 0.5


class ConnectionBroken(AuthError):
    """The connection is revoked or failed for good; the message says how to reconnect."""


@dataclass(frozen=True)
class StoredTokens:
    """One connection's row, decrypted."""

    access_token: SecretStr
    refresh_token: SecretStr | None
    expires_at: datetime | None
    refreshed_at: datetime | None
    status: str
    auth: str
    domain_prefix: str | None


def reconnect_advice(settings: Settings, shop_name: str, source: str) -> str:
    """What a person does about a broken connection: where to connect it again."""
    root = (settings.public_url or settings.dashboard_url).rstrip("/")
    return (
        f"reconnect {VENDOR_TITLES.get(source, source)} for shop {shop_name} at "
        f"{root}/shops/connect/{source}?name={quote(shop_name)}"
    )


def needs_refresh(source: str, tokens: StoredTokens | Connection, now: datetime) -> bool:
    """Whether an OAuth connection's token is due for a proactive refresh."""
    if tokens.expires_at is not None and tokens.expires_at - now <= EXPIRY_MARGIN:
        return True
    if source == "square":
        return tokens.refreshed_at is None or now - tokens.refreshed_at >= SQUARE_REFRESH_EVERY
    return False


def renew_connection(
    control: Database,
    settings: Settings,
    shop_name: str,
    source: str,
    *,
    refused: str | None = None,
    now: datetime | None = None,
    transport: httpx.BaseTransport | None = None,
) -> SecretStr | None:
    """The access token to use now: the stored one when it still serves, else a refreshed one
    (stored first). `refused`: the token the API just answered 401 to. None: a personal token
    (nothing to renew). ConnectionBroken when the connection is revoked or failed."""
    cipher = _cipher(settings)
    moment = now or datetime.now(UTC)
    with control.connect() as conn:
        stored = _read(conn, cipher, shop_name, source, lock=True)
        if stored.status != "ok":
            raise ConnectionBroken(_broken_message(settings, shop_name, source, stored.status))
        if stored.auth != "oauth":
            return None
        current = stored.access_token
        if refused is not None and current.get_secret_value() != refused:
            return current  # another worker renewed it while we waited for the lock
        if refused is None and not needs_refresh(source, stored, moment):
            return current
        app = oauth_app(settings, source)
        if app is None:
            raise ConfigError(
                f"shop {shop_name}'s {source} connection needs a refresh, but the "
                f"{VENDOR_TITLES[source]} OAuth app is not configured (client id and secret)"
            )
        try:
            if stored.refresh_token is None:
                raise GrantRefused(f"{source} gave no refresh token")
            grant = OAuthClient(app, transport=transport).refresh(
                stored.refresh_token, stored.domain_prefix
            )
        except GrantRefused as refusal:
            conn.rollback()
            return _after_refusal(conn, cipher, settings, shop_name, source, stored, refusal)
        except AppCredentialsRefused as refusal:
            conn.rollback()
            _mark_broken(conn, settings, shop_name, source, "failed", str(refusal))
            raise ConnectionBroken(_broken_message(settings, shop_name, source, "failed")) from None
        refresh = grant.refresh_token or stored.refresh_token
        conn.execute(
            query("store_refreshed_tokens"),
            {
                "access_token": cipher.encrypt(grant.access_token.get_secret_value()),
                "refresh_token": cipher.encrypt(refresh.get_secret_value()) if refresh else None,
                "expires_at": grant.expires_at,
                "shop_name": shop_name,
                "source": source,
            },
        )
        conn.commit()  # stored before anyone uses it: a crash now loses nothing
        logger.info("refreshed the %s token of shop %s", source, shop_name)
        return grant.access_token


def refresh_due(
    control: Database, settings: Settings, shop: Shop, now: datetime | None = None
) -> Shop:
    """`shop` with every OAuth connection that is due refreshed first. A refresh that fails
    leaves the stored token (it may still serve); a revoked one is marked for the dashboard."""
    if not shop.registered:
        return shop
    moment = now or datetime.now(UTC)
    renewed: dict[str, Connection] = {}
    for source, connection in shop.connections.items():
        if connection.auth != "oauth" or connection.status != "ok":
            continue
        if not needs_refresh(source, connection, moment):
            continue
        try:
            token = renew_connection(control, settings, shop.name, source, now=moment)
        except (ConnectionBroken, OAuthUnavailable, ConfigError) as exc:
            logger.warning("shop %s: %s token not refreshed: %s", shop.name, source, exc)
            continue
        if token is not None:
            renewed[source] = replace(connection, access_token=token)
    if not renewed:
        return shop
    return replace(shop, connections={**shop.connections, **renewed})


def renewing_source(
    control: Database,
    base: Settings,
    shop: Shop,
    shop_settings: Settings,
    source: str,
    *,
    inner: httpx.BaseTransport | None = None,
) -> Source | None:
    """The shop's source whose client renews its token when the API answers 401; None when
    the connection is not OAuth (the engine opens the source itself)."""
    connection = shop.connections.get(source)
    if not shop.registered or connection is None or connection.auth != "oauth":
        return None

    def renew(refused: str) -> str | None:
        token = renew_connection(control, base, shop.name, source, refused=refused)
        return token.get_secret_value() if token is not None else None

    transport = RenewingTransport(connection.access_token.get_secret_value(), renew, inner)
    return open_source(shop_settings, source, transport=transport)


def read_tokens(control: Database, settings: Settings, shop_name: str, source: str) -> StoredTokens:
    """One connection's stored tokens and status, decrypted."""
    with control.connect() as conn:
        return _read(conn, _cipher(settings), shop_name, source, lock=False)


def _after_refusal(
    conn: psycopg.Connection[Any],
    cipher: TokenCipher,
    settings: Settings,
    shop_name: str,
    source: str,
    used: StoredTokens,
    refusal: GrantRefused,
) -> SecretStr:
    """A refused refresh token: if another process stored new tokens meanwhile, those serve;
    otherwise the connection is revoked. A writer that rotated the token at the vendor and
    then queued on our row lock may not have committed yet: it gets a moment, then a re-read."""
    for pause in (0.0, REREAD_PAUSE_SECONDS):
        time.sleep(pause)
        again = _read(conn, cipher, shop_name, source, lock=True)
        if again.status == "ok" and _secret(again.refresh_token) != _secret(used.refresh_token):
            conn.commit()
            return again.access_token
        conn.rollback()  # let a waiting writer have the row
    _mark_broken(conn, settings, shop_name, source, "revoked", str(refusal))
    raise ConnectionBroken(_broken_message(settings, shop_name, source, "revoked"))


def _mark_broken(
    conn: psycopg.Connection[Any],
    settings: Settings,
    shop_name: str,
    source: str,
    status: str,
    why: str,
) -> None:
    detail = f"{why[:300]}; {reconnect_advice(settings, shop_name, source)}"
    changed = conn.execute(
        query("mark_connection_broken"),
        {"status": status, "detail": detail, "shop_name": shop_name, "source": source},
    ).fetchone()
    conn.commit()
    if changed is not None:
        logger.warning("shop %s: %s connection %s: %s", shop_name, source, status, why)


def _broken_message(settings: Settings, shop_name: str, source: str, status: str) -> str:
    title = VENDOR_TITLES.get(source, source)
    what = "was revoked" if status == "revoked" else "failed for good"
    advice = reconnect_advice(settings, shop_name, source)
    return f"shop {shop_name}'s {title} connection {what}: {advice}"


def _read(
    conn: psycopg.Connection[Any], cipher: TokenCipher, shop_name: str, source: str, *, lock: bool
) -> StoredTokens:
    statement = query("lock_shop_connection") if lock else query("read_shop_connection")
    row = conn.execute(statement, (shop_name, source)).fetchone()
    if row is None:
        raise ConfigError(f"shop {shop_name} has no {source} connection any more")
    access, refresh, expires_at, refreshed_at, status, auth, prefix = row
    return StoredTokens(
        access_token=SecretStr(cipher.decrypt(access)),
        refresh_token=SecretStr(cipher.decrypt(refresh)) if refresh is not None else None,
        expires_at=expires_at,
        refreshed_at=refreshed_at,
        status=status,
        auth=auth,
        domain_prefix=prefix,
    )


def _secret(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value is not None else None


def _cipher(settings: Settings) -> TokenCipher:
    if settings.encryption_key is None:
        raise ConfigError(NO_KEY)
    return TokenCipher.from_setting(settings.encryption_key)
