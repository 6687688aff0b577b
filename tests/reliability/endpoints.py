"""Alert endpoints on loopback for the secret scan: the alerts tests' SMTP server (aiosmtpd,
with AUTH), a webhook receiver that keeps every body, and apprise's Slack plugin pointed at it
(`slacklocal://`, registered in this process only, as in tests/notify/conftest.py)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import apprise
from apprise.plugins.slack import NotifySlack

from tests.notify.conftest import SLACK_URL, SmtpInbox, free_port, mailto_url, start_smtp


@dataclass
class WebhookInbox:
    """Bodies posted to the receiver (headers are the credentials' job; bodies must be clean)."""

    port: int = 0
    bodies: list[tuple[str, str]] = field(default_factory=list)  # (path, body)


@dataclass
class AlertEndpoints:
    smtp: SmtpInbox
    webhook: WebhookInbox

    def mailto_url(self) -> str:
        return mailto_url(self.smtp.port)

    def json_url(self, password: str) -> str:
        """apprise's generic JSON webhook, with basic-auth credentials in the URL."""
        return f"json://hook:{password}@127.0.0.1:{self.webhook.port}/hook"

    @property
    def slack_url(self) -> str:
        """Slack's payload, delivered here (in this process only)."""
        return SLACK_URL


@contextmanager
def alert_endpoints() -> Iterator[AlertEndpoints]:
    """Start the SMTP server and the webhook receiver; stop both at the end."""
    smtp = SmtpInbox(port=free_port())
    controller = start_smtp(smtp)
    webhook = WebhookInbox()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            webhook.bodies.append((self.path, self.rfile.read(length).decode("utf-8", "replace")))
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    webhook.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    class LocalSlack(NotifySlack):
        secure_protocol = "slacklocal"
        webhook_url = f"http://127.0.0.1:{webhook.port}/services"
        request_rate_per_sec = 0

    manager = apprise.NotificationManager()
    manager.add(LocalSlack, schemas="slacklocal")
    try:
        yield AlertEndpoints(smtp, webhook)
    finally:
        manager.remove("slacklocal")
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
        controller.stop()
