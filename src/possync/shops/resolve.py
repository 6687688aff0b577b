"""A shop → the `Settings` and `Database` the engine, jobs, dashboard and alerts already take.

A registered shop's settings are the deployment's (database, HTTP limits, engine) with the
shop's own schema, credentials, time zone, thresholds and schedules; its alert URLs are added
to the global ones.
"""

from __future__ import annotations

from typing import Any

import psycopg
from pydantic import SecretStr

from possync.config.settings import Settings
from possync.db.connection import Database
from possync.errors import ConfigError
from possync.shops.model import ENVIRONMENT_SHOP, Connection, Shop
from possync.shops.oauth.tokens import refresh_due
from possync.shops.registry import load_shops
from possync.shops.secrets import NO_KEY, TokenCipher
from possync.sources.registry import configured_sources


def environment_shop(settings: Settings) -> Shop | None:
    """The shop POSSYNC_* configures, or None when it configures no source."""
    sources = configured_sources(settings)
    if not sources:
        return None
    connections = {}
    if "lightspeed" in sources and settings.lightspeed_token is not None:
        connections["lightspeed"] = Connection(
            source="lightspeed",
            api_url=settings.lightspeed_base_url or "",
            access_token=settings.lightspeed_token,
            domain_prefix=settings.lightspeed_domain_prefix,
        )
    if "square" in sources and settings.square_token is not None:
        connections["square"] = Connection(
            source="square", api_url=settings.square_url, access_token=settings.square_token
        )
    return Shop(
        name=ENVIRONMENT_SHOP,
        schema_name=settings.schema_name,
        timezone=settings.timezone,
        health_thresholds=settings.health_thresholds,
        connections=connections,
        registered=False,
    )


def shop_settings(base: Settings, shop: Shop) -> Settings:
    """`base` narrowed to one shop (the environment's shop is `base` itself)."""
    if not shop.registered:
        return base
    update: dict[str, Any] = {
        "shop_name": shop.name,
        "schema_name": shop.schema_name,
        "timezone": shop.timezone,
        "lightspeed_url": None,
        "lightspeed_domain_prefix": None,
        "lightspeed_token": None,
        "square_token": None,
        "notify_urls": SecretStr(
            " ".join([*base.notify_url_list, *(u for u in shop.notify_urls if u)])
        ),
        # Alerts link to the shop's own page of the dashboard.
        "dashboard_url": shop_page_url(base.dashboard_url, shop.name),
    }
    if shop.health_thresholds:
        update["health_thresholds"] = shop.health_thresholds
    if shop.schedule_incremental is not None:
        update["schedule_incremental"] = shop.schedule_incremental
    if shop.schedule_deep is not None:
        update["schedule_deep"] = shop.schedule_deep
    lightspeed = shop.connections.get("lightspeed")
    if lightspeed is not None:
        update["lightspeed_url"] = lightspeed.api_url
        update["lightspeed_domain_prefix"] = lightspeed.domain_prefix
        update["lightspeed_token"] = lightspeed.access_token
    square = shop.connections.get("square")
    if square is not None:
        update["square_url"] = square.api_url
        update["square_token"] = square.access_token
    return base.model_copy(update=update)


def shop_page_url(dashboard_url: str, name: str) -> str:
    """A registered shop's overview on the dashboard (`/shops/NAME/`)."""
    return f"{dashboard_url.rstrip('/')}/shops/{name}/"


def shop_database(control: Database, shop: Shop) -> Database:
    """The shop's schema on the control database's server."""
    return Database(control.url, shop.schema_name, isolated=shop.registered)


def all_shops(
    conn: psycopg.Connection[Any], settings: Settings, *, secrets: bool = False
) -> list[Shop]:
    """The environment's shop (when it configures a source) and every registered one.

    With `secrets`, tokens and alert URLs are decrypted (POSSYNC_ENCRYPTION_KEY needed as soon
    as a shop is registered)."""
    cipher = cipher_for(settings) if secrets else None
    registered = load_shops(conn, cipher)
    if secrets and cipher is None and any(s.connections or s.notify_urls for s in registered):
        raise ConfigError(NO_KEY)
    env = environment_shop(settings)
    return ([env] if env is not None else []) + registered


def cipher_for(settings: Settings) -> TokenCipher | None:
    """The cipher of POSSYNC_ENCRYPTION_KEY, or None when it is not set."""
    if settings.encryption_key is None:
        return None
    return TokenCipher.from_setting(settings.encryption_key)


class ShopNotFound(ConfigError):
    """No shop has the name asked for (never registered, or removed since)."""


def pick_shop(shops: list[Shop], name: str | None, base: Settings) -> Shop:
    """The shop `--shop NAME` names; without a name, the only shop there is."""
    if name is not None:
        for shop in shops:
            if shop.name == name:
                return shop
        known = ", ".join(s.name for s in shops) or "none"
        raise ShopNotFound(f"no shop named {name!r} (shops: {known}); see `possync shops list`")
    if len(shops) > 1:
        names = ", ".join(s.name for s in shops)
        raise ConfigError(f"{len(shops)} shops ({names}): name one with --shop NAME")
    if shops:
        return shops[0]
    # No shop at all: the environment's, unconfigured; commands say which token is missing.
    return Shop(ENVIRONMENT_SHOP, base.schema_name, base.timezone, registered=False)


def choose_shop(control: Database, base: Settings, name: str | None) -> Shop:
    """The shop a command works on, its secrets decrypted (the key is needed only when the
    chosen shop is a registered one) and its OAuth tokens fresh."""
    with control.connect() as conn:
        shops = all_shops(conn, base)
        chosen = pick_shop(shops, name, base)
        if not chosen.registered:
            return chosen
        cipher = cipher_for(base)
        if cipher is None:
            raise ConfigError(NO_KEY)
        shop = load_shops(conn, cipher, only=chosen.name)[0]
    return refresh_due(control, base, shop)  # OAuth tokens due for a refresh, refreshed first
