"""Keeping secrets out of alert messages and logs.

Every secret setting (tokens, passwords, the database URL) and every credential inside the
apprise URLs (passwords, Slack and Teams webhook tokens: apprise marks those parts private; the
custom headers, parameters and payload fields of json://, xml:// and form:// URLs) is replaced
by `***` wherever it appears, raw, URL-quoted or HTML-escaped.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote, unquote, unquote_plus, urlsplit

import apprise
from pydantic import SecretStr

from possync.config.settings import Settings

REDACTED = "***"
# Shorter values would match ordinary words; no real token or password is this short.
MIN_SECRET_LENGTH = 4
_SECRET_NAME_PARTS = ("token", "password", "secret", "api_key")
# apprise's json://, xml:// and form:// URLs: `+` headers, `-` query parameters, `:` payload.
_CUSTOM_PARAMETER_PREFIXES = ("+", "-", ":")
_CREDENTIAL_PARAMETER_PARTS = ("token", "key", "secret", "pass", "auth", "sig", "apikey")


def secret_values(settings: Settings) -> tuple[str, ...]:
    """Every secret the settings hold, longest first (so a secret inside another goes too)."""
    found: set[str] = set()
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        if isinstance(value, SecretStr):
            _add_value(found, value.get_secret_value())
        elif isinstance(value, str) and any(part in name for part in _SECRET_NAME_PARTS):
            _add_value(found, value)
    for url in settings.notify_url_list:
        _add_value(found, url)
        found.update(_apprise_private_values(url))
        found.update(_query_credentials(url))
    return tuple(sorted(found, key=len, reverse=True))


def scrub(text: str, secrets: tuple[str, ...]) -> str:
    """`text` with every secret replaced by ***."""
    for secret in secrets:
        for form in _forms(secret):
            if form in text:
                text = text.replace(form, REDACTED)
    return text


def _forms(secret: str) -> tuple[str, ...]:
    return tuple({secret, html.escape(secret), quote(secret, safe="")})


def _add_value(found: set[str], value: str) -> None:
    if len(value) >= MIN_SECRET_LENGTH:
        found.add(value)
    try:
        password = urlsplit(value).password
    except ValueError:
        return
    if password and len(unquote(password)) >= MIN_SECRET_LENGTH:
        found.update({password, unquote(password)})


def _query_credentials(url: str) -> set[str]:
    """Query values apprise does not mark private but that carry credentials: custom headers
    (`+X-Api-Key=`), request parameters (`-token=`), payload fields (`:key=`), and any
    parameter named like a secret."""
    try:
        query = urlsplit(url).query
    except ValueError:
        return set()
    values: set[str] = set()
    for pair in query.split("&"):
        raw_name, _, raw_value = pair.partition("=")
        name = unquote(raw_name).lower()
        if name[:1] not in _CUSTOM_PARAMETER_PREFIXES and not any(
            part in name for part in _CREDENTIAL_PARAMETER_PARTS
        ):
            continue
        # As written, and as decoded by either convention ('+' kept or read as a space).
        for value in (raw_value, unquote(raw_value), unquote_plus(raw_value)):
            if len(value) >= MIN_SECRET_LENGTH:
                values.add(value)
    return values


class _DropRecords(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return False


@contextmanager
def _apprise_silenced() -> Iterator[None]:
    """apprise logs every URL it parses, credentials and all, at DEBUG."""
    drop = _DropRecords()
    apprise_logger = logging.getLogger("apprise")
    apprise_logger.addFilter(drop)
    try:
        yield
    finally:
        apprise_logger.removeFilter(drop)


def _apprise_private_values(url: str) -> set[str]:
    """The parts of an apprise URL that apprise itself treats as private."""
    try:
        with _apprise_silenced():
            plugin = apprise.Apprise.instantiate(url)
    except Exception:
        return set()
    if plugin is None:
        return set()
    specs: dict[str, dict[str, Any]] = {**plugin.template_tokens, **plugin.template_args}
    values: set[str] = set()
    for name, spec in specs.items():
        if not spec.get("private"):
            continue
        value = getattr(plugin, str(spec.get("map_to", name)), None)
        if isinstance(value, str) and len(value) >= MIN_SECRET_LENGTH:
            values.add(value)
    return values
