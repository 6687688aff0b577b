"""A shop's own schema: created and migrated when the shop is added, migrated with the
control schema by `possync migrate`, dropped only when asked (`shops remove --drop-data`)."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql

from possync.config.settings import Settings
from possync.db.connection import Database
from possync.db.migrate import migrate
from possync.db.migration_files import Migration
from possync.db.queries import query, template
from possync.errors import ConfigError
from possync.shops.model import Shop
from possync.shops.registry import load_shops
from possync.shops.resolve import shop_database, shop_settings


def migrate_shop(control: Database, settings: Settings, shop: Shop) -> list[Migration]:
    """Create the shop's schema if needed and apply what it misses (not the control-only
    migrations, not the job queue)."""
    return migrate(shop_database(control, shop), shop_settings(settings, shop), control=False)


def migrate_everything(control: Database, settings: Settings) -> dict[str, list[Migration]]:
    """The control schema (and the environment's shop in it), then every registered shop's
    schema: schema name → migrations applied."""
    applied = {control.schema: migrate(control, settings)}
    with control.connect() as conn:
        shops = load_shops(conn)
    for shop in shops:
        applied[shop.schema_name] = migrate_shop(control, settings, shop)
    return applied


def schema_exists(conn: psycopg.Connection[Any], schema_name: str) -> bool:
    row = conn.execute(query("schema_exists"), (schema_name,)).fetchone()
    return bool(row and row[0])


def drop_shop_schema(control: Database, schema_name: str) -> None:
    if schema_name == control.schema:  # never possync's own: the registry and the job queue
        raise ConfigError(f"{schema_name} is possync's own schema (POSSYNC_SCHEMA): not dropped")
    with control.connect(autocommit=True) as conn:
        conn.execute(template("drop_shop_schema").format(schema=sql.Identifier(schema_name)))
