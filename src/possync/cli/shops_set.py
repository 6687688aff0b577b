"""`possync shops set NAME …`: change a registered shop in place: a new token (read from a
file or standard input, never the command line), where its APIs are, a connection dropped, its
time zone, alert URLs, freshness thresholds or schedules. Only what is given changes; every
option is checked before the database is touched, and the change is one transaction."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import click
import psycopg
from pydantic import SecretStr

from possync.cli.context import AppContext, pass_app
from possync.cli.shop_input import (
    checked,
    checked_notify_urls,
    cron_option,
    lightspeed_endpoint,
    one_token_from_stdin,
    read_token,
    registered_name,
    square_endpoint,
)
from possync.config.parsing import SQUARE_PRODUCTION_URL, time_zone_name
from possync.config.thresholds import checked_thresholds
from possync.errors import ConfigError
from possync.shops import registry
from possync.shops.model import Connection
from possync.shops.resolve import cipher_for
from possync.shops.secrets import NO_KEY, TokenCipher

GLOBAL_SCHEDULE = "default"  # --schedule-*: back to POSSYNC_SCHEDULE_*
Endpoint = tuple[str, str | None]  # (API base, Lightspeed domain prefix)


@click.command("set")
@click.argument("name")
@click.option("--lightspeed-url", metavar="URL", help="Lightspeed API base (…/api/2.0).")
@click.option("--lightspeed-domain-prefix", metavar="P", help="Or the store's subdomain.")
@click.option("--lightspeed-token-file", metavar="F", help="A new token from F; - is stdin.")
@click.option("--no-lightspeed", is_flag=True, help="Drop the Lightspeed connection.")
@click.option("--square-url", metavar="URL", help="Square API base.")
@click.option("--square-token-file", metavar="F", help="A new token from F; - is stdin.")
@click.option("--no-square", is_flag=True, help="Drop the Square connection.")
@click.option("--timezone", metavar="TZ", help="The shop's IANA time zone.")
@click.option(
    "--notify-url",
    "notify_urls",
    multiple=True,
    metavar="URL",
    help="Replace the shop's own alert URLs (repeatable); POSSYNC_NOTIFY_URLS stays.",
)
@click.option("--no-notify-urls", is_flag=True, help="Drop the shop's own alert URLs.")
@click.option(
    "--health-thresholds", metavar="T", help="Like POSSYNC_HEALTH_THRESHOLDS; empty: global."
)
@click.option(
    "--schedule-incremental",
    metavar="CRON",
    help=f"Cron in the shop's time zone; empty turns it off, '{GLOBAL_SCHEDULE}' is global.",
)
@click.option(
    "--schedule-deep",
    metavar="CRON",
    help=f"Cron; empty turns it off, '{GLOBAL_SCHEDULE}' is POSSYNC_SCHEDULE_DEEP.",
)
@pass_app
def set_command(
    app: AppContext,
    name: str,
    lightspeed_url: str | None,
    lightspeed_domain_prefix: str | None,
    lightspeed_token_file: str | None,
    no_lightspeed: bool,
    square_url: str | None,
    square_token_file: str | None,
    no_square: bool,
    timezone: str | None,
    notify_urls: tuple[str, ...],
    no_notify_urls: bool,
    health_thresholds: str | None,
    schedule_incremental: str | None,
    schedule_deep: str | None,
) -> None:
    """Change a shop: a new token, an API URL, its time zone, alert URLs, thresholds or
    schedules. Only what is given changes; a new token replaces the old one."""
    registered_name(name)
    one_token_from_stdin(lightspeed_token_file, square_token_file)
    lightspeed_given = (lightspeed_url, lightspeed_domain_prefix, lightspeed_token_file)
    if no_lightspeed and any(lightspeed_given):
        raise ConfigError("--no-lightspeed drops the connection: give no --lightspeed-* with it")
    if no_square and (square_url or square_token_file):
        raise ConfigError("--no-square drops the connection: give no --square-* with it")
    if notify_urls and no_notify_urls:
        raise ConfigError("give --notify-url or --no-notify-urls, not both")
    # Everything is checked before the database is touched.
    lightspeed = (
        lightspeed_endpoint(lightspeed_url, lightspeed_domain_prefix),
        read_token(lightspeed_token_file, "--lightspeed-token-file"),
    )
    square_url_checked = square_endpoint(square_url)
    square = (
        (square_url_checked, None) if square_url_checked else None,
        read_token(square_token_file, "--square-token-file"),
    )
    settings = _settings_changes(timezone, health_thresholds, schedule_incremental, schedule_deep)
    new_urls = checked_notify_urls(notify_urls) if notify_urls or no_notify_urls else None
    given = [*lightspeed, *square, new_urls]
    if all(part is None for part in given) and not (settings or no_lightspeed or no_square):
        raise ConfigError("nothing to change: give an option (`possync shops set --help`)")
    cipher = cipher_for(app.base_settings)
    if cipher is None and (lightspeed[1] is not None or square[1] is not None or notify_urls):
        raise ConfigError(NO_KEY)

    with app.control_database.connect() as conn:
        if not registry.registry_exists(conn):
            raise ConfigError("the database has no shops registry yet: run `possync migrate`")
        with conn.transaction():
            shop = registry.lock_shop(conn, name)
            if shop is None:
                raise ConfigError(f"no shop named {name!r}; see `possync shops list`")
            current = registry.connection_endpoints(conn, name)
            changed = _change_connection(
                conn, name, "lightspeed", *lightspeed, drop=no_lightspeed, current=current,
                cipher=cipher,
            )  # fmt: skip
            changed += _change_connection(
                conn, name, "square", *square, drop=no_square, current=current, cipher=cipher
            )
            if settings:
                registry.update_shop_settings(conn, replace(shop, **settings))
                changed += [_SETTING_NAMES[key] for key in settings]
            if new_urls is not None:
                registry.set_notify_urls(conn, name, new_urls, cipher)
                changed.append(
                    f"alert URLs ({len(new_urls)})" if new_urls else "alert URLs dropped"
                )
    click.echo(f"updated shop {name}: {', '.join(changed)}")


_SETTING_NAMES = {
    "timezone": "time zone",
    "health_thresholds": "health thresholds",
    "schedule_incremental": "incremental schedule",
    "schedule_deep": "deep schedule",
}


def _settings_changes(
    timezone: str | None,
    thresholds: str | None,
    incremental: str | None,
    deep: str | None,
) -> dict[str, Any]:
    """The shop's own settings the options change, checked."""
    changes: dict[str, Any] = {}
    if timezone is not None:
        changes["timezone"] = checked(time_zone_name, timezone, "--timezone")
    if thresholds is not None:
        changes["health_thresholds"] = checked(
            checked_thresholds, thresholds, "--health-thresholds"
        )
    for key, value, option in (
        ("schedule_incremental", incremental, "--schedule-incremental"),
        ("schedule_deep", deep, "--schedule-deep"),
    ):
        if value is not None:
            changes[key] = None if value.strip() == GLOBAL_SCHEDULE else cron_option(value, option)
    return changes


def _change_connection(
    conn: psycopg.Connection[Any],
    name: str,
    source: str,
    endpoint: Endpoint | None,
    token: SecretStr | None,
    *,
    drop: bool,
    current: dict[str, Endpoint],
    cipher: TokenCipher | None,
) -> list[str]:
    """Replace the token and/or move the endpoint of one connection (or drop it); what
    changed, in words."""
    existing = current.get(source)
    if drop:
        if existing is None:
            raise ConfigError(f"shop {name} has no {source} connection to drop")
        registry.delete_connection(conn, name, source)
        return [f"{source} dropped"]
    if token is not None:
        target = endpoint or existing
        if target is None and source == "square":
            target = (SQUARE_PRODUCTION_URL, None)
        if target is None:
            raise ConfigError(
                f"shop {name} has no {source} connection yet: give --lightspeed-url or "
                "--lightspeed-domain-prefix with the token"
            )
        connection = Connection(source, target[0], token, domain_prefix=target[1])
        registry.save_connection(conn, name, connection, cipher)
        return [f"{source} token" + (" and URL" if endpoint else "")]
    if endpoint is None:
        return []
    if existing is None:
        raise ConfigError(
            f"shop {name} has no {source} connection yet: give --{source}-token-file too"
        )
    registry.set_connection_endpoint(conn, name, source, *endpoint)
    return [f"{source} URL"]
