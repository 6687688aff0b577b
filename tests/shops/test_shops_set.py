"""`possync shops set`: a shop changed in place (a token replaced, a URL moved, a connection
dropped, its own settings), and bad input refused in one line with nothing changed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from bench.trials.square_truth import assert_square_matches_truth
from bench.trials.truth import assert_lightspeed_matches_truth
from cryptography.fernet import Fernet
from pydantic import SecretStr

from possync.db.connection import Database
from possync.shops.registry import load_shops
from possync.shops.secrets import TokenCipher
from possync.simulator import RunningSimulator, SimulatorConfig, running_simulator
from tests.support.cli import RunPossync
from tests.support.environment import environment_for

KEY = Fernet.generate_key().decode()
NOWHERE = "http://127.0.0.1:9"  # nothing listens: these shops are never synced


@pytest.fixture(scope="module")
def stores() -> Iterator[RunningSimulator]:
    with running_simulator(SimulatorConfig(seed=15, scale="small", stores=2)) as running:
        yield running


def truth(sim: RunningSimulator, store: int) -> dict[str, Any]:
    answer = httpx.get(sim.base_url + "/_simulator/truth", params={"store": store})
    return answer.json()  # type: ignore[no-any-return]


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text + "\n")
    return str(path)


def registry_rows(db: Database) -> list[tuple[Any, ...]]:
    """Every row of both registry tables, as stored (ciphertexts and timestamps included)."""
    with db.connect() as conn:
        shops = conn.execute("SELECT * FROM possync_shops ORDER BY name").fetchall()
        connections = conn.execute(
            "SELECT * FROM possync_shop_connections ORDER BY shop_name, source"
        ).fetchall()
    return [*shops, *connections]


def the_shop(db: Database, name: str) -> Any:
    with db.connect() as conn:
        return next(s for s in load_shops(conn, TokenCipher([KEY])) if s.name == name)


def test_a_new_token_replaces_a_rejected_one_and_the_shop_syncs(
    db: Database, tmp_path: Path, stores: RunningSimulator, possync_cli: RunPossync
) -> None:
    env = environment_for(db, tmp_path, POSSYNC_ENCRYPTION_KEY=KEY)
    wrong = write(tmp_path, "wrong", "not-the-token")
    added = possync_cli(
        "shops", "add", "north", "--lightspeed-url", stores.lightspeed_url,
        "--lightspeed-token-file", wrong, "--square-url", stores.square_url,
        "--square-token-file", wrong, env=env,
    )  # fmt: skip
    assert added.returncode == 0, added.explain()
    refused = possync_cli("sync", "--shop", "north", env=env)
    assert refused.returncode != 0, refused.explain()

    right = write(tmp_path, "right", f"{stores.token}-2")
    changed = possync_cli(
        "shops", "set", "north", "--lightspeed-token-file", right,
        "--square-token-file", right, env=env,
    )  # fmt: skip
    assert changed.returncode == 0, changed.explain()
    assert changed.stdout.strip() == "updated shop north: lightspeed token, square token"
    assert stores.token not in changed.stdout + changed.stderr

    synced = possync_cli("sync", "--shop", "north", env=env)
    assert synced.returncode == 0, synced.explain()
    with Database(db.url, "shop_north").connect() as conn:
        assert_lightspeed_matches_truth(conn, truth(stores, 2)["lightspeed"])
        assert_square_matches_truth(conn, truth(stores, 2)["square"])
    shop = the_shop(db, "north")
    assert shop.connections["lightspeed"].api_url == stores.lightspeed_url
    assert shop.connections["square"].access_token == SecretStr(f"{stores.token}-2")


def test_urls_settings_alert_urls_and_connections_change_in_place(
    db: Database, tmp_path: Path, possync_cli: RunPossync
) -> None:
    env = environment_for(db, tmp_path, POSSYNC_ENCRYPTION_KEY=KEY)
    token = write(tmp_path, "token", "tok-1")
    added = possync_cli(
        "shops", "add", "north", "--lightspeed-domain-prefix", "northshop",
        "--lightspeed-token-file", token, "--square-token-file", token, env=env,
    )  # fmt: skip
    assert added.returncode == 0, added.explain()
    with db.connect() as conn:
        stored_before = conn.execute(
            "SELECT access_token FROM possync_shop_connections WHERE source = 'lightspeed'"
        ).fetchone()

    moved = possync_cli("shops", "set", "north", "--lightspeed-url", f"{NOWHERE}/api/2.0", env=env)
    assert moved.returncode == 0, moved.explain()
    assert moved.stdout.strip() == "updated shop north: lightspeed URL"
    lightspeed = the_shop(db, "north").connections["lightspeed"]
    assert (lightspeed.api_url, lightspeed.domain_prefix) == (f"{NOWHERE}/api/2.0", None)
    assert lightspeed.access_token == SecretStr("tok-1")
    with db.connect() as conn:  # the token was not touched, not even re-encrypted
        assert (
            conn.execute(
                "SELECT access_token FROM possync_shop_connections WHERE source = 'lightspeed'"
            ).fetchone()
            == stored_before
        )

    own = possync_cli(
        "shops", "set", "north", "--timezone", "Asia/Tokyo",
        "--health-thresholds", "sales=1h/2h", "--schedule-incremental", "*/30 * * * *",
        "--schedule-deep", "", "--notify-url", "json://127.0.0.1:9/a",
        "--notify-url", "json://127.0.0.1:9/b", "--no-square", env=env,
    )  # fmt: skip
    assert own.returncode == 0, own.explain()
    assert own.stdout.strip() == (
        "updated shop north: square dropped, time zone, health thresholds, "
        "incremental schedule, deep schedule, alert URLs (2)"
    )
    shop = the_shop(db, "north")
    assert (shop.timezone, shop.health_thresholds) == ("Asia/Tokyo", "sales=1h/2h")
    assert (shop.schedule_incremental, shop.schedule_deep) == ("*/30 * * * *", "")
    assert shop.notify_urls == ("json://127.0.0.1:9/a", "json://127.0.0.1:9/b")
    assert shop.sources == ("lightspeed",)

    back = possync_cli(
        "shops", "set", "north", "--schedule-incremental", "default",
        "--health-thresholds", "", "--no-notify-urls", env=env,
    )  # fmt: skip
    assert back.returncode == 0, back.explain()
    shop = the_shop(db, "north")
    assert (shop.schedule_incremental, shop.health_thresholds, shop.notify_urls) == (None, "", ())
    assert shop.schedule_deep == "" and shop.timezone == "Asia/Tokyo"

    added_square = possync_cli("shops", "set", "north", "--square-token-file", token, env=env)
    assert added_square.returncode == 0, added_square.explain()
    square = the_shop(db, "north").connections["square"]
    assert square.api_url == "https://connect.squareup.com"


@pytest.mark.parametrize(
    ("args", "key", "error"),
    [
        (["north"], KEY, "nothing to change: give an option"),
        (["nobody", "--timezone", "UTC"], KEY, "no shop named 'nobody'"),
        (["default", "--timezone", "UTC"], KEY, "the default shop is the one the environment"),
        (["north", "--timezone", "Mars/Base"], KEY, "--timezone: unknown time zone 'Mars/Base'"),
        (["north", "--lightspeed-url", "ftp://x"], KEY, "--lightspeed-url: must be an http"),
        (
            ["north", "--lightspeed-url", f"{NOWHERE}/api/2.0", "--lightspeed-domain-prefix", "x"],
            KEY,
            "give --lightspeed-url or --lightspeed-domain-prefix, not both",
        ),
        (
            ["north", "--no-lightspeed", "--lightspeed-token-file", "TOKEN"],
            KEY,
            "--no-lightspeed drops the connection",
        ),
        (["north", "--lightspeed-token-file", "/nonexistent"], KEY, "cannot read /nonexistent"),
        (["north", "--lightspeed-token-file", "EMPTY"], KEY, "must hold exactly one token"),
        (["north", "--square-url", f"{NOWHERE}/sq"], KEY, "no square connection yet"),
        (["north", "--no-square"], KEY, "shop north has no square connection to drop"),
        (
            ["north", "--notify-url", "json://x", "--no-notify-urls"],
            KEY,
            "give --notify-url or --no-notify-urls, not both",
        ),
        (["north", "--schedule-deep", "every day"], KEY, "--schedule-deep: not a cron"),
        (
            ["north", "--notify-url", "json://127.0.0.1:9/a", "--notify-url", "nonsense"],
            KEY,
            "--notify-url #2 is not an apprise URL possync can send to",
        ),
        (["north", "--health-thresholds", "sales=fast"], KEY, "--health-thresholds: 'sales=fast'"),
        (["north", "--lightspeed-token-file", "TOKEN"], "", "POSSYNC_ENCRYPTION_KEY is not set"),
        (
            ["north", "--lightspeed-token-file", "-", "--square-token-file", "-"],
            KEY,
            "only one token can come from standard input",
        ),
        # Checked inside the transaction, after the Lightspeed URL and the time zone changed:
        # both are rolled back.
        (
            ["north", "--lightspeed-url", f"{NOWHERE}/new", "--timezone", "UTC", "--no-square"],
            KEY,
            "shop north has no square connection to drop",
        ),
    ],
)
def test_bad_input_is_one_line_and_changes_nothing(
    db: Database,
    tmp_path: Path,
    possync_cli: RunPossync,
    args: list[str],
    key: str,
    error: str,
) -> None:
    env = environment_for(db, tmp_path, POSSYNC_ENCRYPTION_KEY=KEY)
    write(tmp_path / "cwd", "TOKEN", "tok-2")
    write(tmp_path / "cwd", "EMPTY", "")
    token = write(tmp_path, "token", "tok-1")
    added = possync_cli(
        "shops", "add", "north", "--lightspeed-url", f"{NOWHERE}/api/2.0",
        "--lightspeed-token-file", token, "--timezone", "Europe/Paris",
        "--notify-url", "json://127.0.0.1:9/n", env=env,
    )  # fmt: skip
    assert added.returncode == 0, added.explain()
    before = registry_rows(db)

    result = possync_cli("shops", "set", *args, env={**env, "POSSYNC_ENCRYPTION_KEY": key})
    assert result.returncode == 2, result.explain()
    assert len(result.stderr_lines) == 1 and error in result.stderr, result.explain()
    assert registry_rows(db) == before


def test_add_refuses_an_alert_url_apprise_cannot_use_and_remove_asks_only_about_a_shop(
    db: Database, tmp_path: Path, possync_cli: RunPossync
) -> None:
    env = environment_for(db, tmp_path, POSSYNC_ENCRYPTION_KEY=KEY)
    secret_url = "smtp-ish://user:pa55word@mail.example"
    added = possync_cli("shops", "add", "north", "--notify-url", secret_url, env=env)
    assert added.returncode == 2, added.explain()
    assert added.stderr_lines == [
        "error: --notify-url #1 is not an apprise URL possync can send to (mailtos://…, "
        "slack://…; see docs/alerts.md)"
    ]
    assert "pa55word" not in added.stdout + added.stderr
    assert registry_rows(db) == []
    with db.connect() as conn:
        assert conn.execute("SELECT to_regnamespace('shop_north')").fetchone() == (None,)

    removed = possync_cli("shops", "remove", "north", "--drop-data", env=env)
    assert removed.returncode == 2, removed.explain()
    assert removed.stderr_lines == ["error: no shop named 'north'; see `possync shops list`"]
    assert "drop schema" not in removed.stdout
