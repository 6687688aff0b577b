"""The token keeper against the simulator and a real database: one refresh per connection
however many threads ask, the stored token reused when another worker already renewed it,
proactive refreshes before expiry (Square weekly), a refused refresh token marks the
connection revoked, and "Disconnect" revokes Square's tokens."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from flask import Flask
from pydantic import SecretStr

from possync.config.settings import Settings
from possync.db.connection import Database
from possync.shops.oauth.tokens import ConnectionBroken, read_tokens, refresh_due, renew_connection
from possync.shops.registry import load_shops
from possync.shops.resolve import choose_shop
from possync.shops.secrets import TokenCipher
from possync.simulator import RunningSimulator
from possync.web import create_app
from tests.oauth.conftest import connect_through_dashboard, oauth_counters, oauth_settings
from tests.web.conftest import log_in


@pytest.fixture
def settings(db: Database, tmp_path: Path, stores: RunningSimulator) -> Settings:
    return oauth_settings(db, tmp_path, stores)


@pytest.fixture
def dashboard(settings: Settings, db: Database) -> Iterator[Flask]:
    app = create_app(settings, db)
    yield app
    app.extensions["possync"].job_queue.close()


@pytest.fixture
def connected(dashboard: Flask, stores: RunningSimulator) -> Flask:
    """Shop `north`: Lightspeed store 2 and Square store 2, both by OAuth."""
    client = dashboard.test_client()
    assert log_in(client).status_code == 302
    for vendor in ("lightspeed", "square"):
        connect_through_dashboard(client, stores, vendor, "north", store=2)
    return dashboard


def refreshes(sim: RunningSimulator, vendor: str) -> int:
    per_vendor = oauth_counters(sim)[vendor]
    assert isinstance(per_vendor, dict)
    return int(per_vendor["refreshes"])


def outlets_answer(sim: RunningSimulator, token: SecretStr) -> int:
    headers = {"Authorization": f"Bearer {token.get_secret_value()}"}
    return httpx.get(f"{sim.base_url}/store-2/api/2.0/outlets", headers=headers).status_code


@pytest.mark.usefixtures("connected")
def test_eight_threads_meeting_one_refused_token_cause_one_refresh(
    db: Database, settings: Settings, stores: RunningSimulator
) -> None:
    refused = read_tokens(db, settings, "north", "lightspeed").access_token.get_secret_value()
    before = refreshes(stores, "lightspeed")
    reused_before = oauth_counters(stores)["reused_refresh_tokens"]
    got: list[str] = []
    start = threading.Barrier(8)

    def renew() -> None:
        start.wait()
        token = renew_connection(db, settings, "north", "lightspeed", refused=refused)
        assert token is not None
        got.append(token.get_secret_value())

    threads = [threading.Thread(target=renew) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(got) == 8 and len(set(got)) == 1 and got[0] != refused
    assert refreshes(stores, "lightspeed") == before + 1
    stored = read_tokens(db, settings, "north", "lightspeed")
    assert stored.access_token.get_secret_value() == got[0]  # committed before use
    assert outlets_answer(stores, stored.access_token) == 200
    # A worker arriving later with the token refused long ago gets the stored one, no refresh.
    again = renew_connection(db, settings, "north", "lightspeed", refused=refused)
    assert again is not None and again.get_secret_value() == got[0]
    assert refreshes(stores, "lightspeed") == before + 1
    assert oauth_counters(stores)["reused_refresh_tokens"] == reused_before


@pytest.mark.usefixtures("connected")
def test_tokens_are_refreshed_before_they_lapse_and_squares_weekly(
    db: Database, settings: Settings, stores: RunningSimulator
) -> None:
    shop = choose_shop(db, settings, "north")  # fresh tokens: nothing to do
    counts = (refreshes(stores, "lightspeed"), refreshes(stores, "square"))
    now = datetime.now(UTC)
    assert refresh_due(db, settings, shop, now=now + timedelta(days=5)) == shop
    assert (refreshes(stores, "lightspeed"), refreshes(stores, "square")) == counts

    later = refresh_due(db, settings, shop, now=now + timedelta(days=6, hours=12))
    assert refreshes(stores, "lightspeed") == counts[0] + 1  # within a day of its expiry
    assert refreshes(stores, "square") == counts[1] + 1  # six days since its last refresh
    for source in ("lightspeed", "square"):
        old, new = shop.connections[source], later.connections[source]
        assert new.access_token.get_secret_value() != old.access_token.get_secret_value()
        stored = read_tokens(db, settings, "north", source)
        assert stored.access_token.get_secret_value() == new.access_token.get_secret_value()
        assert stored.refreshed_at is not None and old.refreshed_at is not None
        assert stored.refreshed_at > old.refreshed_at
    assert outlets_answer(stores, later.connections["lightspeed"].access_token) == 200


@pytest.mark.usefixtures("connected")
def test_a_refresh_token_the_vendor_refuses_marks_the_connection_revoked(
    db: Database, settings: Settings, stores: RunningSimulator
) -> None:
    # Someone else used (and so retired) the stored Lightspeed refresh token.
    assert settings.encryption_key is not None
    cipher = TokenCipher.from_setting(settings.encryption_key)
    with db.connect() as conn:
        (shop,) = load_shops(conn, cipher)
    refresh = shop.connections["lightspeed"].refresh_token
    assert refresh is not None
    rival = httpx.post(
        f"{stores.base_url}/store-2/api/1.0/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": refresh.get_secret_value(),
            "client_id": settings.lightspeed_client_id,
            "client_secret": "possync-demo-secret",
        },
    )
    assert rival.status_code == 200
    refused = shop.connections["lightspeed"].access_token.get_secret_value()
    with pytest.raises(ConnectionBroken) as broken:
        renew_connection(db, settings, "north", "lightspeed", refused=refused)
    assert str(broken.value) == (
        "shop north's Lightspeed connection was revoked: reconnect Lightspeed for shop north "
        "at http://127.0.0.1:8080/shops/connect/lightspeed?name=north"
    )
    stored = read_tokens(db, settings, "north", "lightspeed")
    assert stored.status == "revoked"
    assert read_tokens(db, settings, "north", "square").status == "ok"
    with pytest.raises(ConnectionBroken):  # later callers are told at once
        renew_connection(db, settings, "north", "lightspeed", refused=refused)


def test_disconnect_revokes_squares_tokens_and_forgets_the_connection(
    connected: Flask, db: Database, settings: Settings, stores: RunningSimulator
) -> None:
    token = read_tokens(db, settings, "north", "square").access_token
    client = connected.test_client()
    assert log_in(client).status_code == 302
    page = client.get("/shops/north/connections").get_data(as_text=True)
    csrf = page.split('name="csrf_token" value="')[1].split('"')[0]
    answer = client.post("/shops/north/connections/square/disconnect", data={"csrf_token": csrf})
    assert answer.status_code == 302
    after = client.get("/shops/north/connections").get_data(as_text=True)
    assert "Square disconnected from north and its tokens revoked." in after
    assert 'data-source="square"' not in after and 'data-source="lightspeed"' in after
    square = httpx.get(
        stores.square_url + "/v2/locations",
        headers={"Authorization": f"Bearer {token.get_secret_value()}"},
    )
    assert square.status_code == 401


@pytest.mark.usefixtures("connected")
def test_a_refusal_after_a_rival_rotated_the_token_uses_the_tokens_the_rival_stored(
    db: Database, settings: Settings, stores: RunningSimulator
) -> None:
    """A rival (say, an older possync without the lock) refreshes with the same refresh token
    just before us, then waits on our row lock to store its tokens: the vendor refuses ours,
    and we must take the rival's rather than call the connection revoked."""
    assert settings.encryption_key is not None
    cipher = TokenCipher.from_setting(settings.encryption_key)
    stored = read_tokens(db, settings, "north", "lightspeed")
    assert stored.refresh_token is not None
    rival: dict[str, str] = {}

    def rival_stores(access: str, refresh: str) -> None:
        with db.connect() as conn:
            conn.execute(
                """UPDATE possync_shop_connections SET access_token = %s, refresh_token = %s
                   WHERE shop_name = 'north' AND source = 'lightspeed'""",
                (cipher.encrypt(access), cipher.encrypt(refresh)),
            )
            conn.commit()

    class RivalFirst(httpx.BaseTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            assert stored.refresh_token is not None
            answer = httpx.post(
                str(request.url),
                data={
                    "grant_type": "refresh_token",
                    "refresh_token": stored.refresh_token.get_secret_value(),
                    "client_id": settings.lightspeed_client_id,
                    "client_secret": "possync-demo-secret",
                },
            ).json()
            rival.update(answer)
            writer = threading.Thread(
                target=rival_stores, args=(answer["access_token"], answer["refresh_token"])
            )
            writer.start()
            threads.append(writer)
            _wait_for_a_lock_wait(db)
            return httpx.HTTPTransport().handle_request(request)  # ours: already rotated

    threads: list[threading.Thread] = []
    reused_before = oauth_counters(stores)["reused_refresh_tokens"]
    token = renew_connection(
        db,
        settings,
        "north",
        "lightspeed",
        refused=stored.access_token.get_secret_value(),
        transport=RivalFirst(),
    )
    for thread in threads:
        thread.join()
    assert token is not None and token.get_secret_value() == rival["access_token"]
    after = read_tokens(db, settings, "north", "lightspeed")
    assert after.status == "ok" and after.access_token == token
    assert outlets_answer(stores, token) == 200
    reused = oauth_counters(stores)["reused_refresh_tokens"]
    assert isinstance(reused, int) and isinstance(reused_before, int)
    assert reused == reused_before + 1  # ours, refused


def _wait_for_a_lock_wait(db: Database) -> None:
    """Until some session of this database waits for a lock (the rival, on our row)."""
    deadline = datetime.now(UTC) + timedelta(seconds=10)
    while datetime.now(UTC) < deadline:
        with db.connect() as conn:
            row = conn.execute(
                """SELECT count(*) FROM pg_stat_activity
                   WHERE datname = current_database() AND wait_event_type = 'Lock'"""
            ).fetchone()
        if row is not None and row[0] > 0:
            return
        threading.Event().wait(0.05)
    raise AssertionError("the rival never waited for the row lock")


@pytest.mark.usefixtures("connected")
def test_a_refused_client_secret_marks_the_connection_failed_with_the_fix(
    db: Database, settings: Settings
) -> None:
    wrong = settings.model_copy(update={"lightspeed_client_secret": SecretStr("not-it")})
    refused = read_tokens(db, settings, "north", "lightspeed").access_token
    with pytest.raises(ConnectionBroken) as broken:
        renew_connection(db, wrong, "north", "lightspeed", refused=refused.get_secret_value())
    assert str(broken.value).startswith("shop north's Lightspeed connection failed for good: ")
    stored = read_tokens(db, settings, "north", "lightspeed")
    assert stored.status == "failed" and stored.access_token == refused
    with db.connect() as conn:
        row = conn.execute(
            """SELECT status_detail FROM possync_shop_connections
               WHERE shop_name = 'north' AND source = 'lightspeed'"""
        ).fetchone()
    assert row is not None and "client id and secret" in row[0] and "not-it" not in row[0]
