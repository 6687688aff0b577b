"""An API that answers from a script, for unit tests of the HTTP client and the paginators:
the real `ApiClient` over `httpx.MockTransport`, every request it sent kept for assertions,
and its sleeps recorded instead of slept."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from typing import Any

import httpx

from possync.sources.http import ApiClient, Pacing, RetryPolicy

BASE_URL = "https://shop.test/api/2.0"


@dataclass(frozen=True)
class Answer:
    """One scripted response."""

    status: int = 200
    body: Any = None  # JSON-encoded unless it is already bytes
    headers: dict[str, str] = field(default_factory=dict)

    def response(self) -> httpx.Response:
        content = self.body if isinstance(self.body, bytes) else json.dumps(self.body).encode()
        headers = {"Content-Type": "application/json", **self.headers}
        return httpx.Response(self.status, content=content, headers=headers)


class ScriptedApi:
    """Answers requests in order from `answers`; running out of answers fails the test."""

    def __init__(self, *answers: Answer) -> None:
        self._answers = list(answers)
        self.requests: list[httpx.Request] = []
        self.sleeps: list[float] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        assert self._answers, f"unexpected request {request.method} {request.url}"
        return self._answers.pop(0).response()

    def client(self, retry: RetryPolicy | None = None, pacing: Pacing | None = None) -> ApiClient:
        """The real client over this script, with a seeded jitter and recorded sleeps."""
        return ApiClient(
            BASE_URL,
            "secret-token",
            retry=retry,
            pacing=pacing,
            transport=httpx.MockTransport(self),
            sleep=self.sleeps.append,
            rng=random.Random(13),
        )

    @property
    def paths(self) -> list[str]:
        return [request.url.path.removeprefix("/api/2.0") for request in self.requests]

    def params(self, name: str) -> list[str | None]:
        """The value of query parameter `name` in each request sent (None where absent)."""
        return [request.url.params.get(name) for request in self.requests]

    @property
    def unanswered(self) -> int:
        return len(self._answers)


def page(status: int = 200, headers: dict[str, str] | None = None, **body: Any) -> Answer:
    """A JSON answer: page(data=[...], version={"max": 3})."""
    return Answer(status, body, headers or {})
