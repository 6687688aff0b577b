"""The shop a job works on: its `shop` argument → that shop's settings and database.

Jobs carry the shop's name, never its tokens: the worker decrypts them from the registry when
the job runs, so a token replaced since the job was queued is the one used.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from possync.config.settings import Settings
from possync.db.connection import Database
from possync.errors import ConfigError
from possync.jobs.names import ENVIRONMENT_SHOP_ARG
from possync.shops.model import Shop, schema_for
from possync.shops.oauth.tokens import renewing_source
from possync.shops.resolve import ShopNotFound, choose_shop, shop_database, shop_settings
from possync.sources.base import Source

logger = logging.getLogger(__name__)


class ShopGone(ConfigError):
    """The job's shop was removed after the job was queued."""


class ShopPaused(ConfigError):
    """The job's shop was paused after the job was queued (a scheduled or retried job)."""


@dataclass(frozen=True)
class JobTarget:
    """The job's shop: its settings and database (the deployment's for the environment's
    shop, whose `shop` is None)."""

    settings: Settings
    db: Database
    shop: Shop | None = None


def job_target(settings: Settings, db: Database, shop: str, trigger: str) -> JobTarget:
    """The job's shop; `db` and `settings` are the deployment's. A paused shop's jobs run only
    when a person asked for them (`trigger` "manual")."""
    if shop == ENVIRONMENT_SHOP_ARG:
        return JobTarget(settings, db)
    try:
        chosen = choose_shop(db, settings, shop)
    except ShopNotFound:
        raise ShopGone(f"shop {shop} was removed; its queued job has nothing to do") from None
    if chosen.paused and trigger != "manual":
        raise ShopPaused(f"shop {shop} is paused; its {trigger} job does nothing")
    return JobTarget(shop_settings(settings, chosen), shop_database(db, chosen), chosen)


def oauth_source(settings: Settings, db: Database, target: JobTarget, source: str) -> Source | None:
    """The job's source, renewing its OAuth token when the API refuses it; None when the
    shop's connection is not OAuth (the engine opens the source)."""
    if target.shop is None:
        return None
    return renewing_source(db, settings, target.shop, target.settings, source)


def shop_schema_database(db: Database, shop: str) -> Database:
    """Where a registered shop's job outcomes go when its secrets could not even be read."""
    return Database(db.url, schema_for(shop), isolated=True)
