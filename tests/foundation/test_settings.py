"""Settings: defaults, `.env`, one-line errors that name the setting, secrets kept secret."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from possync.config.settings import SQUARE_PRODUCTION_URL, Settings, load_settings
from possync.db.connection import Database
from possync.errors import ConfigError
from possync.sources.registry import configured_sources

SECRET_VALUES = {
    "POSSYNC_DATABASE_URL": "postgresql://shop:db-Pa55-word@db.example.test:6543/postgres",
    "POSSYNC_LIGHTSPEED_TOKEN": "lsxs_pt_ls-token-value",
    "POSSYNC_SQUARE_TOKEN": "EAAAsquare-token-value",
    "POSSYNC_DASHBOARD_PASSWORD": "dash-board-pass",
    "POSSYNC_SECRET_KEY": "session-signing-key",
    "POSSYNC_NOTIFY_URLS": "mailto://alerts:smtp-pass-word@mail.example.test",
}
SECRET_FRAGMENTS = (
    "db-Pa55-word",
    "ls-token-value",
    "square-token-value",
    "dash-board-pass",
    "session-signing-key",
    "smtp-pass-word",
)


def env_name(field_name: str) -> str:
    field = Settings.model_fields[field_name]
    return field.alias or f"POSSYNC_{field_name.upper()}"


def test_defaults(isolated_env: Path) -> None:
    settings = load_settings()
    assert settings.database_url is None
    assert settings.data_dir == Path("~/.possync")
    assert settings.resolved_data_dir == Path.home() / ".possync"
    assert settings.schema_name == "public"
    assert settings.lightspeed_url is None
    assert settings.lightspeed_base_url is None
    assert settings.lightspeed_token is None
    assert settings.square_url == SQUARE_PRODUCTION_URL == "https://connect.squareup.com"
    assert settings.square_token is None
    assert settings.dashboard_password is None
    assert settings.secret_key is None
    assert settings.notify_url_list == []
    assert settings.health_green_hours == 2
    assert settings.health_yellow_hours == 12
    assert settings.timezone == "UTC"


def test_every_setting_is_documented_and_has_a_default() -> None:
    for name, field in Settings.model_fields.items():
        assert field.description, f"{name} has no description"
        assert not field.is_required(), f"{name} has no default"
        assert env_name(name).startswith("POSSYNC_")


def test_issue_settings_exist() -> None:
    names = {env_name(name) for name in Settings.model_fields}
    for required in (
        "POSSYNC_DATABASE_URL",
        "POSSYNC_DATA_DIR",
        "POSSYNC_SCHEMA",
        "POSSYNC_LIGHTSPEED_URL",
        "POSSYNC_LIGHTSPEED_DOMAIN_PREFIX",
        "POSSYNC_LIGHTSPEED_TOKEN",
        "POSSYNC_SQUARE_URL",
        "POSSYNC_SQUARE_TOKEN",
        "POSSYNC_DASHBOARD_PASSWORD",
        "POSSYNC_SECRET_KEY",
        "POSSYNC_NOTIFY_URLS",
        "POSSYNC_HEALTH_GREEN_HOURS",
        "POSSYNC_HEALTH_YELLOW_HOURS",
        "POSSYNC_TIMEZONE",
    ):
        assert required in names


def test_environment_values_are_read(isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POSSYNC_SCHEMA", "shop_data")
    monkeypatch.setenv("POSSYNC_DATA_DIR", str(isolated_env / "state"))
    monkeypatch.setenv("POSSYNC_HEALTH_GREEN_HOURS", "0.5")
    monkeypatch.setenv("POSSYNC_HEALTH_YELLOW_HOURS", "6")
    monkeypatch.setenv("POSSYNC_TIMEZONE", "Australia/Melbourne")
    monkeypatch.setenv("POSSYNC_NOTIFY_URLS", "json://127.0.0.1:9/a, json://127.0.0.1:9/b")
    settings = load_settings()
    assert settings.schema_name == "shop_data"
    assert settings.data_dir == isolated_env / "state"
    assert settings.health_green_hours == 0.5
    assert settings.health_yellow_hours == 6
    assert settings.timezone == "Australia/Melbourne"
    assert settings.notify_url_list == ["json://127.0.0.1:9/a", "json://127.0.0.1:9/b"]


def test_lightspeed_url_is_derived_from_the_domain_prefix(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POSSYNC_LIGHTSPEED_DOMAIN_PREFIX", "CornerShop")
    assert load_settings().lightspeed_base_url == "https://cornershop.retail.lightspeed.app/api/2.0"
    monkeypatch.setenv("POSSYNC_LIGHTSPEED_URL", "http://127.0.0.1:8765/api/2.0/")
    assert load_settings().lightspeed_base_url == "http://127.0.0.1:8765/api/2.0"


def test_empty_values_mean_the_default(isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # An .env template with `POSSYNC_X=` lines must behave like an unset X.
    monkeypatch.setenv("POSSYNC_DATABASE_URL", "")
    monkeypatch.setenv("POSSYNC_SQUARE_URL", "")
    monkeypatch.setenv("POSSYNC_LIGHTSPEED_URL", "")
    settings = load_settings()
    assert settings.database_url is None
    assert settings.square_url == SQUARE_PRODUCTION_URL
    assert settings.lightspeed_base_url is None


def test_an_empty_token_is_no_token(isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # `POSSYNC_SQUARE_TOKEN=` (or an empty secret file) configured Square with an empty token,
    # so every sync failed on a rejected token instead of saying no source is configured.
    for name in ("LIGHTSPEED_TOKEN", "SQUARE_TOKEN", "DASHBOARD_PASSWORD", "METRICS_TOKEN"):
        monkeypatch.setenv(f"POSSYNC_{name}", " ")
    settings = load_settings()
    assert settings.lightspeed_token is None and settings.square_token is None
    assert settings.dashboard_password is None and settings.metrics_token is None
    assert configured_sources(settings) == ()


def test_dotenv_file_is_read_and_environment_wins(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (isolated_env / ".env").write_text(
        "# possync settings\n"
        "POSSYNC_SCHEMA=from_dotenv\n"
        "POSSYNC_HEALTH_GREEN_HOURS=3\n"
        "POSSYNC_SQUARE_TOKEN=dotenv-square-token\n"
        "POSSYNC_TIMEZONE=Europe/Berlin\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("POSSYNC_TIMEZONE", "America/New_York")
    settings = load_settings()
    assert settings.schema_name == "from_dotenv"
    assert settings.health_green_hours == 3
    assert settings.square_token is not None
    assert settings.square_token.get_secret_value() == "dotenv-square-token"
    assert settings.timezone == "America/New_York"


def test_overrides_by_field_name_are_applied(isolated_env: Path) -> None:
    # `schema_name` has the alias POSSYNC_SCHEMA; the field name must work as an override too.
    assert load_settings(schema_name="shop").schema_name == "shop"
    assert load_settings(POSSYNC_SCHEMA="shop2").schema_name == "shop2"


BAD_VALUES = [
    ("POSSYNC_DATABASE_URL", "mysql://shop:db-Pa55-word@127.0.0.1/x", "postgresql://"),
    ("POSSYNC_DATABASE_URL", "db-Pa55-word", "postgresql://"),
    ("POSSYNC_SCHEMA", "1shop", "letters"),
    ("POSSYNC_SCHEMA", "shop-data", "letters"),
    ("POSSYNC_SCHEMA", "shop;drop", "letters"),
    ("POSSYNC_LIGHTSPEED_URL", "cornershop.retail.lightspeed.app", "http"),
    ("POSSYNC_LIGHTSPEED_DOMAIN_PREFIX", "corner shop", "subdomain"),
    ("POSSYNC_SQUARE_URL", "connect.squareup.com", "http"),
    ("POSSYNC_HEALTH_GREEN_HOURS", "two", "number"),
    ("POSSYNC_HEALTH_GREEN_HOURS", "0", "greater than 0"),
    ("POSSYNC_HEALTH_GREEN_HOURS", "-1", "greater than 0"),
    ("POSSYNC_HEALTH_YELLOW_HOURS", "1", "at least POSSYNC_HEALTH_GREEN_HOURS"),
    ("POSSYNC_HEALTH_YELLOW_HOURS", "nan", "greater than 0"),
    ("POSSYNC_TIMEZONE", "Mars/Olympus_Mons", "time zone"),
]


@pytest.mark.parametrize(("name", "value", "what_is_wrong"), BAD_VALUES)
def test_bad_value_fails_with_one_line_naming_the_setting(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch, name: str, value: str, what_is_wrong: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as raised:
        load_settings()
    message = str(raised.value)
    assert "\n" not in message
    assert name in message
    assert not message.startswith("POSSYNC_POSSYNC_")
    assert what_is_wrong in message
    assert "db-Pa55-word" not in message


TIMEOUT_SETTINGS = (
    "POSSYNC_HTTP_TIMEOUT_SECONDS",
    "POSSYNC_HTTP_DEADLINE_SECONDS",
    "POSSYNC_ALERT_SEND_TIMEOUT_SECONDS",
)


@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "0", "-5", "Infinity"])
@pytest.mark.parametrize("name", TIMEOUT_SETTINGS)
def test_timeouts_must_be_finite_and_positive(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    """`inf` used to load, and the run then died of an OverflowError with its state running."""
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as raised:
        load_settings()
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith(f"{name}: ")
    assert "finite number" in message or "greater than 0" in message


def test_deadline_defaults_to_four_timeouts_and_a_delete_ratio_of_half(isolated_env: Path) -> None:
    settings = load_settings(http_timeout_seconds="2.5", http_deadline_seconds="7")
    assert settings.http_timeout_seconds == 2.5
    assert settings.http_deadline_seconds == 7.0
    defaults = load_settings()
    assert defaults.http_deadline_seconds is None  # the client then uses 4 × the timeout
    assert defaults.max_delete_ratio == 0.5


@pytest.mark.parametrize("value", ["1.5", "-0.1", "nan"])
def test_delete_ratio_is_a_share(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("POSSYNC_MAX_DELETE_RATIO", value)
    with pytest.raises(ConfigError, match=r"^POSSYNC_MAX_DELETE_RATIO: "):
        load_settings()


def test_bad_value_in_dotenv_names_the_setting(isolated_env: Path) -> None:
    (isolated_env / ".env").write_text("POSSYNC_HEALTH_GREEN_HOURS=soon\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"^POSSYNC_HEALTH_GREEN_HOURS: "):
        load_settings()


def test_secrets_are_typed_as_secrets() -> None:
    secret_fields = {
        name
        for name, field in Settings.model_fields.items()
        if field.annotation is not None
        and SecretStr in getattr(field.annotation, "__args__", (field.annotation,))
    }
    assert {
        "database_url",
        "lightspeed_token",
        "square_token",
        "dashboard_password",
        "secret_key",
        "notify_urls",
    } <= secret_fields
    # Settings added later by name are secrets too.
    for name in Settings.model_fields:
        if any(word in name for word in ("token", "password", "secret")):
            assert name in secret_fields, f"{name} looks secret but is not a SecretStr"


def test_secrets_never_printed(isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in SECRET_VALUES.items():
        monkeypatch.setenv(name, value)
    settings = load_settings()
    assert settings.square_token is not None
    assert settings.square_token.get_secret_value() == SECRET_VALUES["POSSYNC_SQUARE_TOKEN"]
    assert settings.notify_url_list == [SECRET_VALUES["POSSYNC_NOTIFY_URLS"]]
    assert settings.database_url is not None
    database = Database(settings.database_url.get_secret_value(), settings.schema_name)
    shown = "\n".join(
        [
            repr(settings),
            str(settings),
            settings.model_dump_json(),
            str(settings.model_dump()),
            repr(database),
            database.display,
        ]
    )
    for fragment in SECRET_FRAGMENTS:
        assert fragment not in shown
    assert "db.example.test:6543" in database.display
