"""The shop a job works on: its `shop` argument → that shop's settings and database.

Jobs carry the shop's name, never its tokens: the worker decrypts them from the registry when
the job runs, so a token replaced since the job was queued is the one used.
"""

from __future__ import annotations

import logging

from possync.config.settings import Settings
from possync.db.connection import Database
from possync.errors import ConfigError
from possync.jobs.names import ENVIRONMENT_SHOP_ARG
from possync.shops.oauth.tokens import renewing_source
from possync.shops.resolve import choose_shop, shop_database, shop_settings
from possync.sources.base import Source

logger = logging.getLogger(__name__)


class ShopGone(ConfigError):
    """The job's shop was removed after the job was queued."""


def job_target(settings: Settings, db: Database, shop: str) -> tuple[Settings, Database]:
    """(settings, database) of the job's shop; `db` and `settings` are the deployment's."""
    if shop == ENVIRONMENT_SHOP_ARG:
        return settings, db
    try:
        chosen = choose_shop(db, settings, shop)
    except ConfigError as exc:
        if str(exc).startswith(f"no shop named {shop!r}"):
            raise ShopGone(f"shop {shop} was removed; its queued job has nothing to do") from None
        raise
    return shop_settings(settings, chosen), shop_database(db, chosen)


def oauth_source(
    settings: Settings, db: Database, shop: str, target: Settings, source: str
) -> Source | None:
    """The job's source, renewing its OAuth token when the API refuses it; None when the
    shop's connection is not OAuth (the engine opens the source)."""
    if shop == ENVIRONMENT_SHOP_ARG:
        return None
    chosen = choose_shop(db, settings, shop)
    return renewing_source(db, settings, chosen, target, source)
