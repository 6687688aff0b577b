"""Settings from secret files (/run/secrets in a container), as Compose and Kubernetes mount them.

Fast and in the default suite; the image itself is checked by test_image.py (marker `container`).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from possync.config.settings import load_settings
from possync.errors import ConfigError

DB_URL = "postgresql://possync:s3cret-pw@db:5432/possync"


def write_secrets(directory: Path, values: dict[str, str]) -> Path:
    directory.mkdir()
    for name, value in values.items():
        # Files written by `echo` or an editor end with a newline; it is not part of the value.
        (directory / name).write_text(value + "\n", encoding="utf-8")
    return directory


def test_each_file_sets_the_setting_of_its_name(isolated_env: Path) -> None:
    secrets = write_secrets(
        isolated_env / "secrets",
        {
            "possync_database_url": DB_URL,
            "possync_dashboard_password": "dash-pw",
            "possync_square_token": "EAAA-token",
            "POSSYNC_SCHEMA": "shop_one",  # an aliased setting, upper case as in the environment
        },
    )
    settings = load_settings(secrets_dir=secrets)
    assert settings.database_url is not None
    assert settings.database_url.get_secret_value() == DB_URL
    assert settings.dashboard_password is not None
    assert settings.dashboard_password.get_secret_value() == "dash-pw"
    assert settings.square_token is not None
    assert settings.square_token.get_secret_value() == "EAAA-token"
    assert settings.schema_name == "shop_one"
    assert settings.lightspeed_token is None  # no file, no variable: unset


def test_the_environment_wins_over_a_file(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secrets = write_secrets(isolated_env / "secrets", {"possync_dashboard_password": "from-file"})
    monkeypatch.setenv("POSSYNC_DASHBOARD_PASSWORD", "from-env")
    settings = load_settings(secrets_dir=secrets)
    assert settings.dashboard_password is not None
    assert settings.dashboard_password.get_secret_value() == "from-env"


def test_no_secrets_directory_is_silent(isolated_env: Path) -> None:
    # Outside a container there is no /run/secrets; pydantic-settings would warn on every command.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        settings = load_settings(secrets_dir=isolated_env / "missing")
    assert settings.database_url is None


def test_a_bad_value_in_a_file_names_the_setting(isolated_env: Path) -> None:
    secrets = write_secrets(isolated_env / "secrets", {"possync_database_url": "mysql://db/x"})
    with pytest.raises(ConfigError) as caught:
        load_settings(secrets_dir=secrets)
    assert str(caught.value) == "POSSYNC_DATABASE_URL: must start with postgresql://"


def test_a_file_that_is_not_text_is_one_line_naming_the_setting(isolated_env: Path) -> None:
    secrets = isolated_env / "secrets"
    secrets.mkdir()
    (secrets / "possync_square_token").write_bytes(b"\xff\xfe token")
    with pytest.raises(ConfigError) as caught:
        load_settings(secrets_dir=secrets)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith('invalid settings: error getting value for field "square_token"')
    assert "utf-8" in message
