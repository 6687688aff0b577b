"""The checks a setting's value goes through, as annotated types the `Settings` fields use.

Each check raises ValueError with the part of the one-line message after the setting's name
(`load_settings` adds the name).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter
from pydantic import AfterValidator, BeforeValidator, SecretStr

from possync.config.thresholds import checked_thresholds

SQUARE_PRODUCTION_URL = "https://connect.squareup.com"


def blank_is_unset(value: Any) -> Any:
    """`POSSYNC_SQUARE_TOKEN=` or an empty secret file means unset, not a configured source
    whose every request is then refused."""
    if isinstance(value, str) and not value.strip():
        return None
    return value


# Between apprise URLs: blanks, or a comma before the next URL's scheme. A comma inside a URL
# stays (mailtos://…?to=finance@example.com,dev@example.com names two recipients).
_BETWEEN_URLS = re.compile(r"\s+|,\s*(?=[A-Za-z][A-Za-z0-9+.-]*://)")


def split_urls(value: str) -> list[str]:
    """The apprise URLs of POSSYNC_NOTIFY_URLS, separated by blanks or commas."""
    return [url for part in _BETWEEN_URLS.split(value) if (url := part.strip(","))]


def http_url(value: str) -> str:
    if urlsplit(value).scheme not in ("http", "https"):
        raise ValueError("must be an http:// or https:// URL")
    return value.rstrip("/")


def optional_http_url(value: str | None) -> str | None:
    # An empty line in .env means "use the default": no URL.
    return http_url(value) if value else None


def square_url(value: str) -> str:
    # An empty line in .env means "use the default", which for Square is production.
    return http_url(value) if value else SQUARE_PRODUCTION_URL


def schema_identifier(value: str) -> str:
    if not value.strip():
        return "public"  # an empty line in .env means the default
    if not value.replace("_", "a").isalnum() or value[0].isdigit():
        raise ValueError("use letters, digits and underscores, not starting with a digit")
    return value


def postgres_url(value: SecretStr | None) -> SecretStr | None:
    if value is None or not value.get_secret_value():
        return None
    parts = urlsplit(value.get_secret_value())
    if parts.scheme not in ("postgresql", "postgres"):
        raise ValueError("must start with postgresql://")
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port == 0:
        raise ValueError("the port must be a number from 1 to 65535")
    return value


def directory_path(value: Path) -> Path:
    path = value.expanduser()
    existing = next((p for p in (path, *path.parents) if p.exists()), None)
    if existing is not None and not existing.is_dir():
        raise ValueError(f"{existing} is a file, not a directory")
    return value


def store_subdomain(value: str | None) -> str | None:
    if not value:
        return None
    if not value.replace("-", "a").isalnum() or not value.isascii():
        raise ValueError("use only the store's subdomain, e.g. myshop for myshop.retail…")
    return value.lower()


def store_url_template(value: str) -> str:
    if "{domain_prefix}" not in value:
        raise ValueError("put {domain_prefix} where the store's subdomain goes")
    return http_url(value)


def time_zone_name(value: str) -> str:
    if not value.strip():
        return "UTC"  # an empty line in .env means the default
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r}; use an IANA name") from None
    return value


def cron_schedule(value: str) -> str:
    value = value.strip()
    if value and not croniter.is_valid(value):
        raise ValueError(f"not a cron expression: {value!r} (e.g. '0 * * * *')")
    if value:
        # A valid cron that matches no date ("0 0 30 2 *") would stop the scheduler.
        try:
            croniter(value, datetime.now(UTC)).get_next(datetime)
        except ValueError:
            raise ValueError(
                f"{value!r} never fires (no date matches it): use a cron that does, "
                "or empty to turn the schedule off"
            ) from None
    return value


OptionalSecret = Annotated[SecretStr | None, BeforeValidator(blank_is_unset)]
DatabaseUrl = Annotated[
    SecretStr | None, BeforeValidator(blank_is_unset), AfterValidator(postgres_url)
]
HttpUrl = Annotated[str, AfterValidator(http_url)]
OptionalHttpUrl = Annotated[str | None, AfterValidator(optional_http_url)]
SquareUrl = Annotated[str, AfterValidator(square_url)]
SchemaName = Annotated[str, AfterValidator(schema_identifier)]
DataDir = Annotated[Path, AfterValidator(directory_path)]
StoreSubdomain = Annotated[str | None, AfterValidator(store_subdomain)]
StoreUrlTemplate = Annotated[str, AfterValidator(store_url_template)]
TimeZoneName = Annotated[str, AfterValidator(time_zone_name)]
CronSchedule = Annotated[str, AfterValidator(cron_schedule)]
HealthThresholds = Annotated[str, AfterValidator(checked_thresholds)]
