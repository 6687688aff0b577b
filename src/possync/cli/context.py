"""What every command shares: settings and database, built on first use (`AppContext`).

Commands take it with `@pass_app`; the `possync` group (`cli.main`) creates it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import click
import psycopg

from possync.config.settings import Settings, load_settings
from possync.db.connection import Database, open_database
from possync.db.published_settings import publish_health_thresholds
from possync.errors import DatabaseError
from possync.shops.model import Shop
from possync.shops.registry import load_shops
from possync.shops.resolve import choose_shop, shop_settings


class AppContext:
    """Settings and database, built on first use so `--help` needs neither.

    `settings` and `database` are the chosen shop's (`--shop NAME`, or the only shop there
    is); `base_settings` and `control_database` are the deployment's, for the commands that
    serve every shop (serve, worker, migrate, shops).
    """

    def __init__(self, debug: bool) -> None:
        self.debug = debug
        self.shop_name: str | None = None
        self._base_settings: Settings | None = None
        self._control: Database | None = None
        self._shop: Shop | None = None
        self._settings: Settings | None = None
        self._database: Database | None = None

    @property
    def base_settings(self) -> Settings:
        if self._base_settings is None:
            self._base_settings = load_settings()
        return self._base_settings

    @property
    def control_database(self) -> Database:
        if self._control is None:
            opened = open_database(self.base_settings)
            self._control = ThresholdPublishingDatabase(
                opened.url, opened.schema, settings=self.base_settings
            )
        return self._control

    @property
    def shop(self) -> Shop:
        """The shop this command works on, its credentials decrypted."""
        if self._shop is None:
            self._shop = choose_shop(self.control_database, self.base_settings, self.shop_name)
        return self._shop

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = self._shop_settings()
        return self._settings

    @property
    def database(self) -> Database:
        if self._database is None:
            shop = self.shop
            if not shop.registered:
                self._database = self.control_database
            else:
                self._database = ThresholdPublishingDatabase(
                    self.control_database.url,
                    shop.schema_name,
                    isolated=True,
                    settings=self.settings,
                )
        return self._database

    def _shop_settings(self) -> Settings:
        # Without --shop and with no registered shop, the environment's settings as they are.
        if self.shop_name is None and self._shop is None and not self._registry_has_shops():
            return self.base_settings
        return shop_settings(self.base_settings, self.shop)

    def _registry_has_shops(self) -> bool:
        # An unreachable database is the command's own error to report (`possync check`
        # says so in its database line), not a failure to pick a shop.
        try:
            with self.control_database.connect() as conn:
                return bool(load_shops(conn))
        except (DatabaseError, psycopg.Error):
            return False


@dataclass(frozen=True, repr=False)
class ThresholdPublishingDatabase(Database):
    """The command's database; its first connection refreshes the health thresholds the
    `sync_health` view reads, so a changed POSSYNC_HEALTH_THRESHOLDS needs no migrate."""

    settings: Settings | None = field(default=None, compare=False)
    _published: list[bool] = field(default_factory=list, compare=False)

    def connect(self, *, autocommit: bool = False) -> psycopg.Connection[Any]:
        conn = super().connect(autocommit=autocommit)
        if self.settings is not None and not self._published:
            self._published.append(True)
            try:
                with conn.transaction():
                    publish_health_thresholds(conn, self.settings)
                if not autocommit:
                    conn.commit()
            except psycopg.Error as exc:  # e.g. a read-only role: the view keeps the old ones
                logging.getLogger(__name__).warning(
                    "could not refresh the sync_health thresholds: %s", str(exc).splitlines()[0]
                )
                if not autocommit:
                    conn.rollback()
        return conn


pass_app = click.make_pass_decorator(AppContext)
