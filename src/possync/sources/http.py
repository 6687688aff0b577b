"""One HTTP client for every POS API: bearer auth, retries, rate-limit pacing.

Retries: 5xx, timeouts, connection resets and truncated or unparsable bodies are retried with
exponential backoff and full jitter. A 429 waits for `Retry-After` (an HTTP date on Lightspeed,
seconds on Square) and does not use up the retry budget (up to `max_rate_limited_waits`).
401/403 raise `AuthError` at once: a rejected token never gets better by retrying.

Deadline: each request, body included, must complete within a total deadline (httpx's
timeout only bounds each read); a request past it is retried like a timeout.

Pacing: when `X-RateLimit-Remaining` falls under a fifth of `X-RateLimit-Limit`, each request
first waits window / remaining, so the waits grow as the budget shrinks and the window resets
before it runs out: steady state sees no 429.
"""

from __future__ import annotations

import email.utils
import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson

from possync import __version__
from possync.errors import AuthError, RateLimitedError, SourceError, TransientError
from possync.sources.base import RequestStats
from possync.sources.tolerant_json import parse_json_body

log = logging.getLogger(__name__)

USER_AGENT = f"possync/{__version__} (+https://github.com/possync/possync)"
RETRYABLE_STATUS = frozenset({500, 502, 503, 504, 520, 522, 524})


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 8
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_rate_limited_waits: int = 20
    max_retry_after: float = 600.0


@dataclass(frozen=True)
class Pacing:
    """Rate-limit pacing from the API's headers (window in seconds)."""

    window_seconds: float = 300.0
    reserve_fraction: float = 0.2


Sleep = Callable[[float], None]


class ApiClient:
    """A thin, thread-safe wrapper over httpx.Client for JSON APIs."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        extra_headers: Mapping[str, str] | None = None,
        retry: RetryPolicy | None = None,
        pacing: Pacing | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 30.0,
        deadline: float | None = None,
        sleep: Sleep = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        headers = {
            "Authorization": f"Bearer {token}",
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
            **(extra_headers or {}),
        }
        self._client = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers=headers,
            timeout=httpx.Timeout(timeout, connect=10.0),
            transport=transport,
            follow_redirects=False,
        )
        # The whole request, body included; by default four read timeouts.
        self._deadline = deadline if deadline is not None else timeout * 4
        self._retry = retry or RetryPolicy()
        self._pacing = pacing
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._lock = threading.Lock()
        self._remaining: int | None = None
        self._limit: int | None = None
        self._answered = threading.local()  # per thread: the server's clock at its last answer
        self.stats = RequestStats()

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def server_time(self) -> datetime | None:
        """The server's clock (its `Date` header) when it answered this thread's last successful
        request; None before any, or when the header is missing or unreadable."""
        moment: datetime | None = getattr(self._answered, "date", None)
        return moment

    def get_json(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return self.request_json("GET", path, params=params)

    def post_json(self, path: str, body: Mapping[str, Any]) -> Any:
        return self.request_json("POST", path, json_body=body)

    def request_json(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Mapping[str, Any] | None = None,
        error_parser: Callable[[httpx.Response], SourceError | None] | None = None,
    ) -> Any:
        """Send one request with retries; return the parsed JSON body."""
        attempt = 0
        rate_limited_waits = 0
        while True:
            self._pace()
            attempt += 1
            self._count_request()
            request = self._client.build_request(
                method,
                path,
                params=_clean_params(params),
                content=orjson.dumps(json_body) if json_body is not None else None,
                headers={"Content-Type": "application/json"} if json_body is not None else None,
            )
            try:
                response, body = self._send_within_deadline(request)
            except _DeadlinePassed:
                self._retry_or_raise(
                    attempt,
                    f"{method} {path}: no complete answer within {self._deadline:g}s "
                    "(POSSYNC_HTTP_DEADLINE_SECONDS)",
                )
                continue
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                self._retry_or_raise(attempt, f"{method} {path}: {type(exc).__name__}")
                continue
            self._note_rate_headers(response)
            status = response.status_code
            with self._lock:
                self.stats.by_status[status] = self.stats.by_status.get(status, 0) + 1
            if status == 429:
                rate_limited_waits += 1
                with self._lock:
                    self.stats.rate_limited += 1
                if rate_limited_waits > self._retry.max_rate_limited_waits:
                    raise RateLimitedError(
                        f"{method} {path}: still rate limited after {rate_limited_waits - 1} waits"
                    )
                self._wait(self._retry_after(response, rate_limited_waits))
                attempt -= 1  # a 429 is the server pacing us, not a failure
                continue
            if status in REDIRECT_STATUS:
                raise SourceError(_redirect_message(method, path, response))
            if status in (401, 403):
                raise AuthError(
                    f"the API rejected the token ({status} on {method} {path}): "
                    "check the token setting and its scopes"
                )
            if status in RETRYABLE_STATUS:
                self._retry_or_raise(attempt, f"{method} {path}: HTTP {status}")
                continue
            if error_parser is not None:
                parsed_error = error_parser(response)
                if parsed_error is not None:
                    raise parsed_error
            if status >= 400:
                raise SourceError(f"{method} {path}: HTTP {status}: {_short_body(body)}")
            try:
                payload = parse_json_body(body)  # a bad value quarantines its record only
            except ValueError:
                self._retry_or_raise(attempt, f"{method} {path}: truncated or invalid JSON")
                continue
            self._answered.date = http_date(response.headers.get("Date"))
            return payload

    def _send_within_deadline(self, request: httpx.Request) -> tuple[httpx.Response, bytes]:
        """Send and read the whole body, giving up once the request's total deadline passes.

        httpx's timeout bounds each read, so a server that sends a byte now and then would
        hold a run (and its lock) forever: the body is read chunk by chunk against a deadline.
        A read still in progress at the deadline ends by its own timeout, so a request takes
        at most the deadline plus one read timeout."""
        deadline = time.monotonic() + self._deadline
        streamed = self._client.send(request, stream=True)
        if streamed.is_stream_consumed:  # a transport that hands back an answer already read
            return streamed, streamed.content
        try:
            chunks: list[bytes] = []
            for chunk in streamed.iter_raw():  # truncation raises here
                chunks.append(chunk)
                if time.monotonic() > deadline:
                    raise _DeadlinePassed
            if time.monotonic() > deadline:
                raise _DeadlinePassed
        finally:
            streamed.close()
        # The same answer, read: its body decoded once (gzip), `.content` usable by parsers.
        response = httpx.Response(
            streamed.status_code,
            headers=streamed.headers,
            content=b"".join(chunks),
            request=request,
        )
        return response, response.read()

    def _count_request(self) -> None:
        with self._lock:
            self.stats.requests += 1

    def _retry_or_raise(self, attempt: int, what: str) -> None:
        if attempt >= self._retry.max_attempts:
            raise TransientError(f"{what} (gave up after {attempt} attempts)")
        with self._lock:
            self.stats.retries += 1
        ceiling = min(self._retry.max_delay, self._retry.base_delay * 2 ** (attempt - 1))
        delay = self._rng.uniform(0, ceiling)  # full jitter
        log.info("retrying after %s in %.2fs", what, delay)
        self._wait(delay)

    def _retry_after(self, response: httpx.Response, waits: int) -> float:
        header = response.headers.get("Retry-After")
        delay: float | None = None
        if header:
            header = header.strip()
            if header.isdigit():
                delay = float(header)
            else:
                try:
                    when = email.utils.parsedate_to_datetime(header)
                    delay = (when - datetime.now(UTC)).total_seconds()
                except (TypeError, ValueError):
                    delay = None
        if delay is None:  # no usable header: back off exponentially
            delay = min(self._retry.max_delay, self._retry.base_delay * 2**waits)
        # A skewed clock can make an HTTP date lie in the past: still wait a little, with jitter.
        delay = max(delay, 0.0) + self._rng.uniform(0, 0.5)
        return min(delay, self._retry.max_retry_after)

    def _note_rate_headers(self, response: httpx.Response) -> None:
        remaining = response.headers.get("X-RateLimit-Remaining")
        limit = response.headers.get("X-RateLimit-Limit")
        with self._lock:
            if remaining is not None and remaining.strip().lstrip("-").isdigit():
                self._remaining = int(remaining)
            if limit is not None and limit.strip().isdigit():
                self._limit = int(limit)

    def _pace(self) -> None:
        if self._pacing is None:
            return
        with self._lock:
            remaining, limit = self._remaining, self._limit
        if remaining is None or not limit:
            return
        if remaining > limit * self._pacing.reserve_fraction:
            return
        self._wait(self._pacing.window_seconds / max(remaining, 1))

    def _wait(self, seconds: float) -> None:
        if seconds <= 0:
            return
        with self._lock:
            self.stats.waited_seconds += seconds
        self._sleep(seconds)


class _DeadlinePassed(Exception):
    """The request's total deadline passed while its answer was still arriving."""


def http_date(header: str | None) -> datetime | None:
    """An HTTP `Date` header as an aware datetime, or None when absent or unreadable."""
    if not header:
        return None
    try:
        moment = email.utils.parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _clean_params(params: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if params is None:
        return None
    cleaned: dict[str, Any] = {}
    for key, value in params.items():
        if value is None:
            continue
        cleaned[key] = ("true" if value else "false") if isinstance(value, bool) else value
    return cleaned


REDIRECT_STATUS = frozenset({301, 302, 303, 307, 308})


def _redirect_message(method: str, path: str, response: httpx.Response) -> str:
    """A redirect is a wrong base URL (often http:// for https://): retrying cannot help."""
    target = response.headers.get("Location", "").strip()
    where = "an address it did not give"
    if target:  # without the query: it could carry a token
        where = urlsplit(str(response.url.join(target)))._replace(query="", fragment="").geturl()
    return (
        f"{method} {path}: the server redirected ({response.status_code}) to {where}: "
        "set the source's URL setting (POSSYNC_LIGHTSPEED_URL or POSSYNC_SQUARE_URL) to the "
        "address it points to"
    )


def _short_body(body: bytes) -> str:
    text = body[:200].decode("utf-8", "replace").replace("\n", " ")
    return text or "(empty body)"


class ClientBackedSource:
    """What every source built on one `ApiClient` shares: its counters and its closing."""

    client: ApiClient

    @property
    def stats(self) -> RequestStats:
        return self.client.stats

    def close(self) -> None:
        self.client.close()
