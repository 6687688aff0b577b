"""`possync --debug`: apprise and urllib3 debug lines never print the credentials of a
json:// URL (custom headers `+X-Api-Key=`, request parameters `-token=`, payload `:key=`)."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest

from possync.db.connection import Database
from tests.support.environment import possync_environment

POSSYNC = Path(sys.executable).with_name("possync")
API_KEY = "hdr-Key-5f2a9c"
TOKEN = "qp-token-81d3e7"
PAYLOAD_SECRET = "payload-sig-40be"


class Webhook:
    """A JSON webhook on 127.0.0.1 that records each request's headers and path."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str]]] = []
        webhook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                webhook.requests.append((self.path, dict(self.headers.items())))
                self.send_response(200)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    hook = Webhook()
    thread = threading.Thread(target=hook.server.serve_forever, daemon=True)
    thread.start()
    yield hook
    hook.server.shutdown()
    hook.server.server_close()


@pytest.mark.parametrize("command", [("alerts", "test"), ("alerts", "status")])
def test_debug_output_never_shows_json_url_credentials(
    db: Database, tmp_path: Path, webhook: Webhook, command: tuple[str, ...]
) -> None:
    url = (
        f"json://127.0.0.1:{webhook.port}/hook"
        f"?+X-Api-Key={API_KEY}&-token={TOKEN}&:signature={PAYLOAD_SECRET}"
    )
    env = possync_environment()
    env.update(
        POSSYNC_DATABASE_URL=db.url,
        POSSYNC_DATA_DIR=str(tmp_path),
        POSSYNC_NOTIFY_URLS=url,
    )
    result = subprocess.run(
        [str(POSSYNC), "--debug", *command],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "DEBUG" in output  # --debug did print the libraries' debug lines
    for secret in (API_KEY, TOKEN, PAYLOAD_SECRET):
        assert secret not in output, output
    if command == ("alerts", "test"):
        # The credentials still went where they belong: in the request, not in the log.
        assert "127.0.0.1" in output and "***" in output
        [(path, headers)] = webhook.requests
        assert headers["X-Api-Key"] == API_KEY
        assert path == f"/hook?token={TOKEN}"
