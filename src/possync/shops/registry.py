"""The registry of shops in the control schema: read, add, remove, pause, re-encrypt.

Every function takes a connection to the control database (its schema first on the search
path). Secrets are decrypted only with a `TokenCipher`; without one (listing shops) tokens
and alert URLs are left out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import psycopg
from pydantic import SecretStr

from possync.db.queries import query
from possync.errors import ConfigError
from possync.shops.model import Connection, Shop
from possync.shops.secrets import TokenCipher

HIDDEN = SecretStr("")  # a token not decrypted (no cipher asked for)


def registry_exists(conn: psycopg.Connection[Any]) -> bool:
    row = conn.execute(query("shops_registry_exists")).fetchone()
    return bool(row and row[0])


def load_shops(
    conn: psycopg.Connection[Any], cipher: TokenCipher | None = None, *, only: str | None = None
) -> list[Shop]:
    """Every registered shop (or the one named `only`) with its connections, by name; []
    before `possync migrate`. Only the shops returned are decrypted: one shop whose secrets
    an old key encrypted never keeps the others from loading."""
    if not registry_exists(conn):
        return []
    connections: dict[str, dict[str, Connection]] = {}
    for row in conn.execute(query("list_shop_connections")):
        (shop_name, source, api_url, prefix, auth, access, refresh, expires, refreshed) = row[:9]
        if only is not None and shop_name != only:
            continue
        reveal = _revealer(cipher, shop_name)
        connections.setdefault(shop_name, {})[source] = Connection(
            source=source,
            api_url=api_url,
            domain_prefix=prefix,
            auth=auth,
            access_token=SecretStr(reveal(access)) if cipher else HIDDEN,
            refresh_token=SecretStr(reveal(refresh)) if cipher and refresh is not None else None,
            expires_at=expires,
            refreshed_at=refreshed,
            status=row[9],
            status_detail=row[10],
            account_id=row[11],
        )
    shops = []
    for row in conn.execute(query("list_shops")):
        name, schema_name, timezone, paused, notify, thresholds, incremental, deep = row
        if only is not None and name != only:
            continue
        reveal = _revealer(cipher, name)
        urls = reveal(notify).split() if cipher and notify is not None else []
        shops.append(
            Shop(
                name=name,
                schema_name=schema_name,
                timezone=timezone,
                paused=paused,
                notify_urls=tuple(urls),
                health_thresholds=thresholds,
                schedule_incremental=incremental,
                schedule_deep=deep,
                connections=connections.get(name, {}),
            )
        )
    return shops


def _revealer(cipher: TokenCipher | None, shop_name: str) -> Callable[[bytes], str]:
    """Decrypts one shop's values; a failure names the shop."""

    def reveal(token: bytes) -> str:
        assert cipher is not None
        try:
            return cipher.decrypt(token)
        except ConfigError as exc:
            raise ConfigError(f"shop {shop_name}: {exc}") from None

    return reveal


def insert_shop(conn: psycopg.Connection[Any], shop: Shop, cipher: TokenCipher | None) -> None:
    """Add `shop` and its connections (the caller holds the transaction)."""
    secrets_given = shop.notify_urls or shop.connections
    if secrets_given and cipher is None:
        raise ConfigError("a shop's tokens and alert URLs need POSSYNC_ENCRYPTION_KEY")
    notify = cipher.encrypt(" ".join(shop.notify_urls)) if cipher and shop.notify_urls else None
    control = conn.execute(query("current_schema_name")).fetchone()
    if control is not None and control[0] == shop.schema_name:
        raise ConfigError(
            f"shop {shop.name!r} would keep its data in {shop.schema_name}, possync's own schema "
            "(POSSYNC_SCHEMA): pick another shop name"
        )
    try:
        conn.execute(
            query("insert_shop"),
            {
                "name": shop.name,
                "schema_name": shop.schema_name,
                "timezone": shop.timezone,
                "notify_urls": notify,
                "health_thresholds": shop.health_thresholds,
                "schedule_incremental": shop.schedule_incremental,
                "schedule_deep": shop.schedule_deep,
            },
        )
    except psycopg.errors.UniqueViolation:
        raise ConfigError(
            f"a shop named {shop.name!r} (or using schema {shop.schema_name}) already exists; "
            "pick another name or `possync shops remove` it first"
        ) from None
    for connection in shop.connections.values():
        save_connection(conn, shop.name, connection, cipher)


def save_connection(
    conn: psycopg.Connection[Any],
    shop_name: str,
    connection: Connection,
    cipher: TokenCipher | None,
) -> None:
    """Insert or replace one connection, its tokens encrypted."""
    if cipher is None:
        raise ConfigError("a shop's tokens need POSSYNC_ENCRYPTION_KEY")
    refresh = connection.refresh_token
    conn.execute(
        query("upsert_shop_connection"),
        {
            "shop_name": shop_name,
            "source": connection.source,
            "api_url": connection.api_url,
            "domain_prefix": connection.domain_prefix,
            "auth": connection.auth,
            "access_token": cipher.encrypt(connection.access_token.get_secret_value()),
            "refresh_token": cipher.encrypt(refresh.get_secret_value()) if refresh else None,
            "expires_at": connection.expires_at,
            "refreshed_at": connection.refreshed_at,
            "account_id": connection.account_id,
        },
    )


def delete_shop(conn: psycopg.Connection[Any], name: str) -> str | None:
    """Remove the shop from the registry; its schema name, or None when there was none."""
    row = conn.execute(query("delete_shop"), (name,)).fetchone()
    return str(row[0]) if row else None


def set_paused(conn: psycopg.Connection[Any], name: str, paused: bool) -> bool:
    return conn.execute(query("set_shop_paused"), (paused, name)).fetchone() is not None


def lock_shop(conn: psycopg.Connection[Any], name: str) -> Shop | None:
    """The shop's own settings (no connections, no secrets), its row locked until the
    transaction ends; None when there is no such shop."""
    row = conn.execute(query("lock_shop"), (name,)).fetchone()
    if row is None:
        return None
    timezone, thresholds, incremental, deep = row
    return Shop(
        name=name,
        schema_name="",
        timezone=timezone,
        health_thresholds=thresholds,
        schedule_incremental=incremental,
        schedule_deep=deep,
    )


def update_shop_settings(conn: psycopg.Connection[Any], shop: Shop) -> None:
    """Store the shop's time zone, thresholds and schedules (not its connections or URLs)."""
    conn.execute(
        query("update_shop_settings"),
        {
            "name": shop.name,
            "timezone": shop.timezone,
            "health_thresholds": shop.health_thresholds,
            "schedule_incremental": shop.schedule_incremental,
            "schedule_deep": shop.schedule_deep,
        },
    )


def set_notify_urls(
    conn: psycopg.Connection[Any], name: str, urls: tuple[str, ...], cipher: TokenCipher | None
) -> None:
    """Replace the shop's own alert URLs (encrypted); none clears them."""
    if urls and cipher is None:
        raise ConfigError("a shop's alert URLs need POSSYNC_ENCRYPTION_KEY")
    encrypted = cipher.encrypt(" ".join(urls)) if cipher and urls else None
    conn.execute(query("update_shop_notify_urls"), (encrypted, name))


def connection_endpoints(
    conn: psycopg.Connection[Any], name: str
) -> dict[str, tuple[str, str | None]]:
    """source → (API base, domain prefix) of each of the shop's connections."""
    rows = conn.execute(query("shop_connection_endpoints"), (name,)).fetchall()
    return {source: (api_url, prefix) for source, api_url, prefix in rows}


def set_connection_endpoint(
    conn: psycopg.Connection[Any], name: str, source: str, api_url: str, prefix: str | None
) -> None:
    """Point a connection elsewhere, keeping its tokens."""
    conn.execute(query("update_connection_endpoint"), (api_url, prefix, name, source))


def delete_connection(conn: psycopg.Connection[Any], name: str, source: str) -> None:
    conn.execute(query("delete_shop_connection"), (name, source))


def reencrypt_all(conn: psycopg.Connection[Any], cipher: TokenCipher) -> int:
    """Every stored secret under the newest key (the caller holds the transaction); the
    number of values re-encrypted."""
    count = 0
    for name, notify in conn.execute(query("lock_encrypted_shop_fields")).fetchall():
        conn.execute(query("update_shop_notify_urls"), (cipher.rotate(notify), name))
        count += 1
    rows = conn.execute(query("lock_encrypted_connection_fields")).fetchall()
    for shop_name, source, access, refresh in rows:
        conn.execute(
            query("update_connection_tokens"),
            (
                cipher.rotate(access),
                cipher.rotate(refresh) if refresh is not None else None,
                shop_name,
                source,
            ),
        )
        count += 1 + (refresh is not None)
    return count


def without_secrets(shop: Shop) -> Shop:
    """The shop as safe to print: tokens and alert URLs dropped."""
    hidden = {
        source: replace(c, access_token=HIDDEN, refresh_token=None)
        for source, c in shop.connections.items()
    }
    return replace(shop, notify_urls=(), connections=hidden)
