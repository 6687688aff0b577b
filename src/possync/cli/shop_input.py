"""What `possync shops add` and `possync shops set` read from their options: tokens from a
file or standard input (never the command line), URLs, time zones, thresholds and crons,
each checked with the setting's own rule and refused in one line naming the option."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from possync.config.parsing import (
    SQUARE_PRODUCTION_URL,
    cron_schedule,
    http_url,
    store_subdomain,
)
from possync.errors import ConfigError
from possync.notify.delivery import unusable_urls
from possync.shops.model import ENVIRONMENT_SHOP, Connection, check_shop_name


def registered_name(name: str) -> str:
    """A registered shop's name: the environment's shop is changed in the environment."""
    if name == ENVIRONMENT_SHOP:
        raise ConfigError(
            "the default shop is the one the environment configures: change its "
            "POSSYNC_* settings instead"
        )
    return check_shop_name(name)


def read_token(path: str | None, option: str) -> SecretStr | None:
    """The one token in file `path` (`-`: standard input); None when the option is absent."""
    if path is None:
        return None
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{option}: cannot read {path}: {exc.strerror}") from None
    token = text.strip()
    if not token or len(token.split()) != 1:
        where = "standard input" if path == "-" else path
        raise ConfigError(f"{option}: {where} must hold exactly one token")
    return SecretStr(token)


def checked(check: Callable[[Any], Any], value: str, option: str) -> str:
    """`value` as the setting's check leaves it, or one line naming the option."""
    try:
        return str(check(value))
    except ValueError as exc:
        raise ConfigError(f"{option}: {exc}") from None


def cron_option(value: str | None, option: str) -> str | None:
    """A shop's cron: None (the global schedule) when absent; empty turns it off."""
    return None if value is None else checked(cron_schedule, value, option)


def lightspeed_endpoint(url: str | None, prefix: str | None) -> tuple[str, str | None] | None:
    """(API base, domain prefix) from --lightspeed-url or --lightspeed-domain-prefix."""
    if url and prefix:
        raise ConfigError("give --lightspeed-url or --lightspeed-domain-prefix, not both")
    if prefix:
        prefix = checked(store_subdomain, prefix, "--lightspeed-domain-prefix")
        url = f"https://{prefix}.retail.lightspeed.app/api/2.0"
    if not url:
        return None
    return checked(http_url, url, "--lightspeed-url"), prefix or None


def lightspeed_connection(
    url: str | None, prefix: str | None, token_file: str | None
) -> Connection | None:
    """A new Lightspeed connection (`shops add`): an endpoint and a token, or neither."""
    endpoint = lightspeed_endpoint(url, prefix)
    token = read_token(token_file, "--lightspeed-token-file")
    if token is None and endpoint is not None:
        raise ConfigError(
            "--lightspeed-token-file is needed with a Lightspeed store (`-` reads it from "
            "standard input)"
        )
    if token is None:
        return None
    if endpoint is None:
        raise ConfigError("a Lightspeed token needs --lightspeed-url or --lightspeed-domain-prefix")
    api_url, domain_prefix = endpoint
    return Connection("lightspeed", api_url, token, domain_prefix=domain_prefix)


def square_endpoint(url: str | None) -> str | None:
    return checked(http_url, url, "--square-url") if url else None


def square_connection(url: str | None, token_file: str | None) -> Connection | None:
    """A new Square connection (`shops add`): production unless --square-url says otherwise."""
    endpoint = square_endpoint(url)
    token = read_token(token_file, "--square-token-file")
    if token is None:
        if endpoint:
            raise ConfigError("--square-token-file is needed with --square-url")
        return None
    return Connection("square", endpoint or SQUARE_PRODUCTION_URL, token)


def checked_notify_urls(urls: tuple[str, ...]) -> tuple[str, ...]:
    """--notify-url values apprise can send to; one line naming the first that it cannot
    (by position: a URL holds credentials)."""
    bad = unusable_urls([url.strip() for url in urls])
    if bad:
        raise ConfigError(
            f"--notify-url #{bad[0]} is not an apprise URL possync can send to "
            "(mailtos://…, slack://…; see docs/alerts.md)"
        )
    return tuple(url.strip() for url in urls)


def one_token_from_stdin(*token_files: str | None) -> None:
    if sum(path == "-" for path in token_files) > 1:
        raise ConfigError("only one token can come from standard input")
