"""The consent round trip, possync's side: a one-use `state` bound to the dashboard session
that asked, then the granted tokens made a shop's connection (the shop created and migrated if
it is new) with its first import queued."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from possync.config.settings import Settings
from possync.db.connection import Database
from possync.db.queries import query
from possync.errors import ConfigError
from possync.shops.model import ENVIRONMENT_SHOP, Connection, Shop, check_shop_name, schema_for
from possync.shops.registry import insert_shop, load_shops, save_connection
from possync.shops.schemas import migrate_shop
from possync.shops.secrets import NO_KEY, TokenCipher
from possync.sources.oauth.grants import TokenGrant
from possync.sources.oauth.vendors import OAuthApp

STATE_LIFETIME = timedelta(minutes=10)


@dataclass(frozen=True)
class Connected:
    """What a finished consent did."""

    shop: Shop
    created: bool  # a new shop (else a connection added to or replaced in an existing one)


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def check_new_connection_name(name: str) -> str:
    """The shop name a consent is started for (the environment's own shop has no registry row,
    so it cannot be connected by OAuth)."""
    check_shop_name(name)
    if name == ENVIRONMENT_SHOP:
        raise ConfigError(
            f"{ENVIRONMENT_SHOP!r} is the shop the environment configures: pick another name"
        )
    return name


def start_consent(control: Database, session_id: str, source: str, shop_name: str) -> str:
    """A fresh `state` for one consent request of this dashboard session (stored hashed)."""
    state = secrets.token_urlsafe(32)
    with control.connect() as conn:
        conn.execute(
            query("insert_oauth_state"),
            {
                "state_hash": _digest(state),
                "session_hash": _digest(session_id),
                "source": source,
                "shop_name": check_new_connection_name(shop_name),
                "seconds": STATE_LIFETIME.total_seconds(),
            },
        )
        conn.commit()
    return state


def take_state(control: Database, session_id: str, source: str, state: str) -> str | None:
    """The shop name the state was made for, once; None for a state that is unknown, used,
    expired, of another session or of another vendor."""
    with control.connect() as conn:
        row = conn.execute(
            query("take_oauth_state"),
            {"state_hash": _digest(state), "session_hash": _digest(session_id), "source": source},
        ).fetchone()
        conn.commit()
    return str(row[0]) if row else None


def _same_account(shop: Shop, vendor: str, account: str | None) -> None:
    """A shop connected again reads the same store: another one's records would mix with the
    first's in one schema, read from the first's cursors."""
    before = shop.connections.get(vendor)
    if before is None or before.account_id is None or account is None:
        return
    if before.account_id != account:
        title = "Lightspeed store" if vendor == "lightspeed" else "Square seller"
        raise ConfigError(
            f"shop {shop.name} reads {title} {before.account_id}, and this consent was for "
            f"{account}: connect that one as a new shop (another name), so the two stores' "
            "data never mix"
        )


def finish_connect(
    control: Database, settings: Settings, app: OAuthApp, shop_name: str, grant: TokenGrant
) -> Connected:
    """Store the granted connection (encrypted); create and migrate the shop if it is new."""
    if settings.encryption_key is None:
        raise ConfigError(NO_KEY)
    cipher = TokenCipher.from_setting(settings.encryption_key)
    account = grant.domain_prefix if app.vendor == "lightspeed" else grant.merchant_id
    connection = Connection(
        source=app.vendor,
        api_url=app.api_url(grant.domain_prefix),
        access_token=grant.access_token,
        auth="oauth",
        domain_prefix=grant.domain_prefix if app.vendor == "lightspeed" else None,
        refresh_token=grant.refresh_token,
        expires_at=grant.expires_at,
        refreshed_at=datetime.now(UTC),
        account_id=account,
    )
    with control.connect() as conn:
        found = load_shops(conn, only=shop_name)
    existing = found[0] if found else None
    if existing is None:
        # Tables first, registry row last: a worker never sees a shop without its tables,
        # and a failed migration leaves no shop behind.
        shop = Shop(shop_name, schema_for(shop_name), connections={app.vendor: connection})
        migrate_shop(control, settings, shop)
        with control.connect() as conn:
            insert_shop(conn, shop, cipher)
            conn.commit()
    else:
        _same_account(existing, app.vendor, account)
        with control.connect() as conn:
            save_connection(conn, shop_name, connection, cipher)
            conn.commit()
        shop = existing
    return Connected(shop, created=existing is None)
