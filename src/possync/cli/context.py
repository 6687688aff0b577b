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


class AppContext:
    """Settings and database, built on first use so `--help` needs neither."""

    def __init__(self, debug: bool) -> None:
        self.debug = debug
        self._settings: Settings | None = None
        self._database: Database | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings()
        return self._settings

    @property
    def database(self) -> Database:
        if self._database is None:
            opened = open_database(self.settings)
            self._database = ThresholdPublishingDatabase(
                opened.url, opened.schema, settings=self.settings
            )
        return self._database


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
