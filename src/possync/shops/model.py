"""A shop as the registry holds it, its tokens decrypted only when asked for."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from pydantic import SecretStr

from possync.errors import ConfigError

# The shop the environment configures (tokens in POSSYNC_*, tables in POSSYNC_SCHEMA).
ENVIRONMENT_SHOP = "default"
SHOP_SCHEMA_PREFIX = "shop_"
_SHOP_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")


# `/shops/connect/…` is the dashboard's "Add a shop": a shop of that name had no pages.
RESERVED_SHOP_NAMES = frozenset({"connect"})


def check_shop_name(name: str) -> str:
    """A shop name: lowercase letters, digits and dashes, up to 40 (it names a schema)."""
    if not _SHOP_NAME.match(name):
        raise ConfigError(
            f"invalid shop name {name!r}: use 1 to 40 lowercase letters, digits and dashes, "
            "starting with a letter or digit (e.g. corner-shop)"
        )
    if name in RESERVED_SHOP_NAMES:
        raise ConfigError(f"{name!r} names a dashboard page (/shops/{name}): pick another name")
    return name


def schema_for(name: str) -> str:
    """The schema of a registered shop: `shop_` and its name, dashes made underscores."""
    return SHOP_SCHEMA_PREFIX + check_shop_name(name).replace("-", "_")


@dataclass(frozen=True)
class Connection:
    """One source of one shop: where its API is and how possync signs in to it."""

    source: str
    api_url: str
    access_token: SecretStr
    auth: str = "token"  # or "oauth"
    domain_prefix: str | None = None
    refresh_token: SecretStr | None = None
    expires_at: datetime | None = None
    refreshed_at: datetime | None = None
    status: str = "ok"  # "revoked" or "failed" when possync may no longer sign in
    status_detail: str | None = None
    # The store or seller it reads (Lightspeed domain prefix, Square merchant id), when known.
    account_id: str | None = None


@dataclass(frozen=True)
class Shop:
    """A business with its own data: at most one connection per source, its own schema."""

    name: str
    schema_name: str
    timezone: str = "UTC"
    paused: bool = False
    notify_urls: tuple[str, ...] = field(default=(), repr=False)  # they hold passwords
    health_thresholds: str = ""
    schedule_incremental: str | None = None  # None: the global POSSYNC_SCHEDULE_*
    schedule_deep: str | None = None
    connections: dict[str, Connection] = field(default_factory=dict)
    registered: bool = True  # False for the environment's shop

    @property
    def sources(self) -> tuple[str, ...]:
        return tuple(sorted(self.connections))
