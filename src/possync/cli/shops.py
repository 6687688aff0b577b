"""`possync shops …`: add, list, pause, resume and remove shops (`set`, which changes one, is
in `shops_set`); make and rotate the key that encrypts their tokens. A token is read from a
file or standard input, never the command line."""

from __future__ import annotations

import json
from typing import Any

import click

from possync.cli.context import AppContext, pass_app
from possync.cli.shop_input import (
    checked,
    checked_notify_urls,
    cron_option,
    lightspeed_connection,
    one_token_from_stdin,
    registered_name,
    square_connection,
)
from possync.cli.shops_set import set_command
from possync.config.parsing import time_zone_name
from possync.config.thresholds import checked_thresholds
from possync.db.connection import Database
from possync.errors import ConfigError
from possync.shops import registry
from possync.shops.model import Shop, check_shop_name, schema_for
from possync.shops.resolve import all_shops, cipher_for
from possync.shops.schemas import drop_shop_schema, migrate_shop, schema_exists
from possync.shops.secrets import NO_KEY, generate_key


@click.group("shops")
def shops_command() -> None:
    """Many shops in one deployment: each with its own schema, tokens and schedules."""


shops_command.add_command(set_command)


@shops_command.command("add")
@click.argument("name")
@click.option("--lightspeed-url", metavar="URL", help="Lightspeed API base (…/api/2.0).")
@click.option("--lightspeed-domain-prefix", metavar="P", help="Or the store's subdomain.")
@click.option("--lightspeed-token-file", metavar="F", help="File holding the token; - is stdin.")
@click.option("--square-url", metavar="URL", help="Square API base (default: production).")
@click.option("--square-token-file", metavar="F", help="File holding the token; - is stdin.")
@click.option("--timezone", default="UTC", show_default=True, help="The shop's IANA time zone.")
@click.option(
    "--notify-url",
    "notify_urls",
    multiple=True,
    help="Apprise URL for this shop's alerts, besides POSSYNC_NOTIFY_URLS (repeatable).",
)
@click.option("--health-thresholds", default="", help="Like POSSYNC_HEALTH_THRESHOLDS.")
@click.option(
    "--schedule-incremental",
    default=None,
    help="Cron (shop's time zone); default POSSYNC_SCHEDULE_INCREMENTAL.",
)
@click.option("--schedule-deep", default=None, help="Cron; default POSSYNC_SCHEDULE_DEEP.")
@pass_app
def add_command(
    app: AppContext,
    name: str,
    lightspeed_url: str | None,
    lightspeed_domain_prefix: str | None,
    lightspeed_token_file: str | None,
    square_url: str | None,
    square_token_file: str | None,
    timezone: str,
    notify_urls: tuple[str, ...],
    health_thresholds: str,
    schedule_incremental: str | None,
    schedule_deep: str | None,
) -> None:
    """Register a shop, create its schema and tables; workers start syncing it."""
    check_shop_name(name)
    if name == "default":
        raise ConfigError("'default' names the shop the environment configures: pick another")
    one_token_from_stdin(lightspeed_token_file, square_token_file)
    connections = {
        c.source: c
        for c in (
            lightspeed_connection(lightspeed_url, lightspeed_domain_prefix, lightspeed_token_file),
            square_connection(square_url, square_token_file),
        )
        if c is not None
    }
    shop = Shop(
        name=name,
        schema_name=schema_for(name),
        timezone=checked(time_zone_name, timezone, "--timezone"),
        notify_urls=checked_notify_urls(notify_urls),
        health_thresholds=checked(checked_thresholds, health_thresholds, "--health-thresholds"),
        schedule_incremental=cron_option(schedule_incremental, "--schedule-incremental"),
        schedule_deep=cron_option(schedule_deep, "--schedule-deep"),
        connections=connections,
    )
    cipher = cipher_for(app.base_settings)
    if cipher is None and (connections or notify_urls):
        raise ConfigError(NO_KEY)
    control = app.control_database
    with control.connect() as conn:
        if not registry.registry_exists(conn):
            raise ConfigError("the database has no shops registry yet: run `possync migrate`")
        existed = schema_exists(conn, shop.schema_name)  # a removed shop's data, kept
    # Tables first, registry row last: a worker that sees the shop finds all its tables.
    try:
        migrate_shop(control, app.base_settings, shop)
        with control.connect() as conn, conn.transaction():
            registry.insert_shop(conn, shop, cipher)
    except BaseException:
        # Only a schema this command created, and never one a shop now registered owns (the
        # same `shops add` run twice at once: the other run won).
        if not existed and not _registered_schema(control, shop.schema_name):
            drop_shop_schema(control, shop.schema_name)
        raise
    sources = ", ".join(shop.sources) or "none yet"
    click.echo(f"added shop {name}: schema {shop.schema_name}, sources {sources}")


def _registered_schema(control: Database, schema_name: str) -> bool:
    with control.connect() as conn:
        return any(s.schema_name == schema_name for s in registry.load_shops(conn))


@shops_command.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the shops as JSON.")
@pass_app
def list_command(app: AppContext, as_json: bool) -> None:
    """Every shop: name, schema, sources, time zone, paused or not."""
    with app.control_database.connect() as conn:
        shops = all_shops(conn, app.base_settings)
    rows = [_shop_json(shop) for shop in shops]
    if as_json:
        click.echo(json.dumps({"shops": rows}, indent=2))
        return
    if not rows:
        click.echo("no shops yet: `possync shops add NAME …` (see `possync shops add --help`)")
        return
    click.echo(f"{'NAME':<24} {'SCHEMA':<28} {'SOURCES':<18} {'TIME ZONE':<20} STATE")
    for row in rows:
        state = "paused" if row["paused"] else "active"
        if not row["registered"]:
            state += " (environment)"
        sources = ",".join(row["sources"]) or "-"
        click.echo(
            f"{row['name']:<24} {row['schema']:<28} {sources:<18} {row['timezone']:<20} {state}"
        )


def _shop_json(shop: Shop) -> dict[str, Any]:
    return {
        "name": shop.name,
        "schema": shop.schema_name,
        "sources": list(shop.sources),
        "timezone": shop.timezone,
        "paused": shop.paused,
        "registered": shop.registered,
    }


@shops_command.command("remove")
@click.argument("name")
@click.option("--drop-data", is_flag=True, help="Also drop the shop's schema and all its data.")
@click.option("--yes", is_flag=True, help="Do not ask before dropping data.")
@pass_app
def remove_command(app: AppContext, name: str, drop_data: bool, yes: bool) -> None:
    """Forget a shop (its tokens with it); its data stays unless --drop-data."""
    registered_name(name)
    control = app.control_database
    unknown = ConfigError(f"no shop named {name!r}; see `possync shops list`")
    if drop_data and not yes:  # ask only about a shop there is
        with control.connect() as conn:
            if not any(shop.name == name for shop in registry.load_shops(conn)):
                raise unknown
        click.confirm(f"drop schema {schema_for(name)} and every row of shop {name}?", abort=True)
    with control.connect() as conn, conn.transaction():
        schema_name = registry.delete_shop(conn, name)
    if schema_name is None:
        raise unknown
    if drop_data:
        drop_shop_schema(control, schema_name)
        click.echo(f"removed shop {name} and dropped schema {schema_name}")
    else:
        click.echo(
            f"removed shop {name}; its data stays in schema {schema_name} "
            "(`possync shops remove --drop-data` would drop it)"
        )


def _set_paused(app: AppContext, name: str, paused: bool) -> None:
    registered_name(name)
    with app.control_database.connect() as conn, conn.transaction():
        if not registry.set_paused(conn, name, paused):
            raise ConfigError(f"no shop named {name!r}; see `possync shops list`")


@shops_command.command("pause")
@click.argument("name")
@pass_app
def pause_command(app: AppContext, name: str) -> None:
    """Stop scheduling syncs for a shop (a sync running now finishes)."""
    _set_paused(app, name, True)
    click.echo(f"paused shop {name}: no sync is scheduled until `possync shops resume {name}`")


@shops_command.command("resume")
@click.argument("name")
@pass_app
def resume_command(app: AppContext, name: str) -> None:
    """Schedule a paused shop's syncs again."""
    _set_paused(app, name, False)
    click.echo(f"resumed shop {name}")


@shops_command.command("generate-key")
def generate_key_command() -> None:
    """Print a new key for POSSYNC_ENCRYPTION_KEY (put it first to rotate)."""
    click.echo(generate_key())


@shops_command.command("rotate-key")
@pass_app
def rotate_key_command(app: AppContext) -> None:
    """Re-encrypt every stored token and alert URL under the first (newest) key."""
    cipher = cipher_for(app.base_settings)
    if cipher is None:
        raise ConfigError(NO_KEY)
    with app.control_database.connect() as conn, conn.transaction():
        count = registry.reencrypt_all(conn, cipher)
    click.echo(
        f"re-encrypted {count} secret(s) under the newest key; older keys may now be "
        "removed from POSSYNC_ENCRYPTION_KEY"
    )
