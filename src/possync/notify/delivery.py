"""Sending a message to every configured apprise URL. Never raises.

Each URL is sent on its own so every channel gets the body it renders best (HTML for email,
with a plain-text alternative; plain text for Slack, Teams and webhooks) and so each channel's
result is known. Channels are named by apprise's service name, never by URL: URLs hold
credentials.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import apprise

from possync.config.settings import Settings
from possync.notify.model import AlertMessage, ChannelResult, Delivery
from possync.notify.scrub import scrub, secret_values

logger = logging.getLogger(__name__)

APP_ID = "possync"
APP_DESCRIPTION = "possync alerts"
APP_URL = "https://github.com/possync/possync"


def send_message(settings: Settings, message: AlertMessage) -> Delivery:
    """Send `message` to every URL in POSSYNC_NOTIFY_URLS; report each channel's outcome."""
    secrets = secret_values(settings)
    with _secrets_kept_out_of_logs(secrets):
        results = tuple(
            _send_one(position, url, message, settings.alert_send_timeout_seconds, secrets)
            for position, url in enumerate(settings.notify_url_list, start=1)
        )
    for result in results:
        if not result.delivered:
            logger.warning("alert %r not delivered: %s", message.title, result.describe())
    return Delivery(results)


# apprise logs the webhook URL it posts to (a Slack URL is its token) and urllib3 logs the
# request path, both at DEBUG: `possync --debug` would print them.
_CHATTY_LOGGERS = ("apprise", "urllib3.connectionpool")


class _RedactSecrets(logging.Filter):
    def __init__(self, secrets: tuple[str, ...]) -> None:
        super().__init__()
        self._secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        scrubbed = scrub(text, self._secrets)
        if scrubbed != text:
            record.msg, record.args = scrubbed, None
        return True


@contextmanager
def _secrets_kept_out_of_logs(secrets: tuple[str, ...]) -> Iterator[None]:
    """While alerts go out, the log records of the libraries sending them are scrubbed."""
    redact = _RedactSecrets(secrets)
    loggers = [logging.getLogger(name) for name in _CHATTY_LOGGERS]
    for chatty in loggers:
        chatty.addFilter(redact)
    try:
        yield
    finally:
        for chatty in loggers:
            chatty.removeFilter(redact)


def describe_channels(settings: Settings) -> list[str]:
    """The service behind each configured URL ("E-Mail", "Slack"), or why it is unusable."""
    names = []
    with _secrets_kept_out_of_logs(secret_values(settings)):  # apprise logs each URL it parses
        for url in settings.notify_url_list:
            plugin = _instantiate(url)
            names.append(str(plugin.service_name) if plugin is not None else "invalid apprise URL")
    return names


def unusable_urls(urls: list[str]) -> list[int]:
    """The 1-based positions of the URLs apprise cannot send to (never the URLs: they hold
    credentials)."""
    # apprise logs an error for each URL it cannot parse: the caller's one line says it.
    apprise_logger = logging.getLogger("apprise")
    was_disabled, apprise_logger.disabled = apprise_logger.disabled, True
    try:
        return [n for n, url in enumerate(urls, start=1) if _instantiate(url) is None]
    finally:
        apprise_logger.disabled = was_disabled


def _send_one(
    position: int, url: str, message: AlertMessage, timeout: float, secrets: tuple[str, ...]
) -> ChannelResult:
    service = "unknown service"
    try:
        plugin = _instantiate(url)
        if plugin is None:
            return ChannelResult(position, service, False, "not a valid apprise URL")
        service = str(plugin.service_name)
        sender = apprise.Apprise(asset=_asset())
        sender.add(plugin)
        wants_html = plugin.resolve_format(apprise.NotifyFormat.HTML) == apprise.NotifyFormat.HTML
        result = sender.notify(
            body=message.html if wants_html else message.text,
            title=message.title,
            notify_type=apprise.NotifyType(message.level),
            body_format=apprise.NotifyFormat.HTML if wants_html else apprise.NotifyFormat.TEXT,
            timeout=timeout,
        )
        if result:
            return ChannelResult(position, service, True)
        return ChannelResult(position, service, False, _failure_reason(result, secrets))
    except Exception as exc:
        # A broken channel must never break the caller (a sync, a health check).
        reason = scrub(f"{type(exc).__name__}: {exc}".splitlines()[0], secrets)
        return ChannelResult(position, service, False, reason)


def _instantiate(url: str) -> apprise.NotifyBase | None:
    plugin = apprise.Apprise.instantiate(url, asset=_asset())
    return plugin if isinstance(plugin, apprise.NotifyBase) else None


def _asset() -> apprise.AppriseAsset:
    # Messages carry possync's name (email X-Application header, Slack footer).
    return apprise.AppriseAsset(app_id=APP_ID, app_desc=APP_DESCRIPTION, app_url=APP_URL)


def _failure_reason(result: apprise.AppriseResult, secrets: tuple[str, ...]) -> str:
    """The last warning apprise recorded for the send, one line, scrubbed."""
    reasons = [
        entry.message
        for entry in result.logs()
        if entry.level in ("WARNING", "ERROR", "CRITICAL") and entry.message
    ]
    if not reasons:
        return "not delivered"
    return scrub(reasons[-1].splitlines()[0], secrets)[:300]
