"""Nothing hangs: a server that sends its headers and then a byte now and then (never slow
enough for the read timeout) fails the request at its total deadline, and the run within its
retry budget, with one line; its state is failed and its lock free."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from bench.trials.dripping import dripping_server

from possync.db.connection import Database
from possync.engine.run import SyncRequest, run_sync
from possync.sources.http import ApiClient, RetryPolicy
from possync.sources.lightspeed import LightspeedSource
from tests.conftest import make_settings

TWO_ATTEMPTS = RetryPolicy(max_attempts=2, base_delay=0.01, max_delay=0.02)


def test_a_dripping_server_fails_the_run_within_its_deadline(db: Database, tmp_path: Path) -> None:
    with dripping_server(interval=0.3, give_up_after=12.0) as server:
        settings = make_settings(
            db,
            tmp_path,
            lightspeed_url=server.url,
            lightspeed_token="drip-token",
            http_timeout_seconds=1.0,
            http_deadline_seconds=1.5,
            writer_process=False,
        )
        source = LightspeedSource(settings, retry=TWO_ATTEMPTS)
        started = time.monotonic()
        try:
            report = run_sync(settings, db, SyncRequest("lightspeed", ("outlets",)), source=source)
        finally:
            source.close()
        elapsed = time.monotonic() - started
        assert server.connections == 2
    # Two attempts of 1.5 s, each overrunning by at most one drip interval, plus the run.
    assert elapsed < 6.0, f"took {elapsed:.1f}s"
    (result,) = report.results
    assert result.status == "failed"
    assert result.error == (
        "GET /outlets: no complete answer within 1.5s (POSSYNC_HTTP_DEADLINE_SECONDS) "
        "(gave up after 2 attempts)"
    )
    assert result.transient  # worth a later retry: the server may recover
    with db.connect() as conn:
        state = conn.execute(
            "SELECT status, error_message FROM sync_state "
            "WHERE source = 'lightspeed' AND entity_type = 'outlets'"
        ).fetchone()
        log = conn.execute(
            "SELECT status FROM sync_log WHERE source = 'lightspeed' AND entity_type = 'outlets'"
        ).fetchall()
    assert state == ("failed", result.error)
    assert log == [("failed",)]


def test_the_deadline_defaults_to_four_read_timeouts() -> None:
    with dripping_server(interval=0.1, give_up_after=5.0) as server:
        client = ApiClient(server.url, "t", timeout=0.25, retry=TWO_ATTEMPTS)
        started = time.monotonic()
        with client, pytest.raises(Exception, match=r"no complete answer within 1s"):
            client.get_json("/anything")
        assert time.monotonic() - started < 3.5


def test_a_transport_that_answers_with_a_body_already_read_still_works() -> None:
    """Transports that wrap others (tests, proxies) may hand back a response already read."""
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json={"data": [1]}))
    with ApiClient("http://127.0.0.1:9", "t", transport=transport) as client:
        assert client.get_json("/x") == {"data": [1]}
