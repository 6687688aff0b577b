"""Alert endpoints on loopback: an SMTP server (aiosmtpd, with AUTH) that keeps every message,
shared with the alerts tests (tests/notify/conftest.py), and for the secret scan a webhook
receiver that keeps every body and apprise's Slack plugin pointed at it (`slacklocal://`,
registered in this process only, as in tests/notify/conftest.py)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import apprise
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from apprise.plugins.slack import NotifySlack

from bench.trials.serving import free_port

SMTP_USER = "alerts"
SMTP_PASSWORD = "smtp-Pa55word-7781"
SLACK_TOKEN = "xoxSlackSecretToken9931"


@dataclass
class SmtpInbox:
    """Messages the loopback SMTP server accepted."""

    port: int
    messages: list[EmailMessage] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)

    @property
    def subjects(self) -> list[str]:
        return [str(message["Subject"]) for message in self.messages]

    def bodies(self, index: int) -> tuple[str, str]:
        """(plain text, HTML) of message `index`."""
        message = self.messages[index]
        text = message.get_body(preferencelist=("plain",))
        html = message.get_body(preferencelist=("html",))
        assert text is not None and html is not None, message.as_string()
        return str(text.get_content()), str(html.get_content())

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.content if isinstance(envelope.content, bytes) else b""
        parsed = message_from_bytes(content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        return "250 OK"

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        ok = (
            isinstance(data, LoginPassword)
            and data.login == SMTP_USER.encode()
            and data.password == SMTP_PASSWORD.encode()
        )
        if ok:
            self.logins.append(SMTP_USER)
        return AuthResult(success=ok)


def start_smtp(inbox: SmtpInbox) -> Controller:
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=inbox.port,
        authenticator=inbox.authenticate,
        auth_require_tls=False,  # loopback test server: plain SMTP with AUTH
    )
    controller.start()
    return controller


def mailto_url(port: int) -> str:
    """Plain SMTP with AUTH on loopback (`mailto://` without `mode=`: no TLS)."""
    return (
        f"mailto://{SMTP_USER}:{SMTP_PASSWORD}@127.0.0.1:{port}"
        "?from=possync@shop.example&to=ops@shop.example"
    )


SLACK_URL = f"slacklocal://T0LOCAL1/B0LOCAL2/{SLACK_TOKEN}"


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
def local_slack_webhook(on_post: Callable[[str, bytes], None]) -> Iterator[int]:
    """A webhook receiver on loopback that hands every POST (path, body) to `on_post`, and
    apprise's Slack plugin registered as `slacklocal://` (this process only) to post there.
    Yields the receiver's port; stops both at the end."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            on_post(self.path, self.rfile.read(length))
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    class LocalSlack(NotifySlack):
        secure_protocol = "slacklocal"
        webhook_url = f"http://127.0.0.1:{port}/services"
        request_rate_per_sec = 0

    manager = apprise.NotificationManager()
    if not manager.add(LocalSlack, schemas="slacklocal"):
        raise RuntimeError("could not register apprise's slacklocal:// plugin")
    try:
        yield port
    finally:
        manager.remove("slacklocal")
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@contextmanager
def alert_endpoints() -> Iterator[AlertEndpoints]:
    """Start the SMTP server and the webhook receiver; stop both at the end."""
    smtp = SmtpInbox(port=free_port())
    controller = start_smtp(smtp)
    webhook = WebhookInbox()

    def keep(path: str, body: bytes) -> None:
        webhook.bodies.append((path, body.decode("utf-8", "replace")))

    try:
        with local_slack_webhook(keep) as port:
            webhook.port = port
            yield AlertEndpoints(smtp, webhook)
    finally:
        controller.stop()
