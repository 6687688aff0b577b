"""The `ApiClient`'s retries and pacing against a scripted API (`httpx.MockTransport`): what is
retried and how long it waits, what is not retried, the one-line error when the budget runs
out, and the waits that keep a run under the rate limit. Sleeps are recorded, not slept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from possync.errors import AuthError, RateLimitedError, TransientError
from possync.sources.http import Pacing, RetryPolicy
from tests.support.scripted_api import Answer, ScriptedApi, page

POLICY = RetryPolicy(max_attempts=3, base_delay=0.5, max_delay=30.0, max_retry_after=60.0)
OUTLETS = page(data=[{"id": "o1", "version": 1}], version={"max": 1})


def test_a_429_waits_for_retry_after_and_does_not_use_the_retry_budget() -> None:
    api = ScriptedApi(
        Answer(429, {"errors": ["slow down"]}, {"Retry-After": "7"}),
        Answer(429, {"errors": ["slow down"]}, {"Retry-After": "2"}),
        Answer(500, {}),
        OUTLETS,
    )
    # Two attempts: the 500 takes one, the 429s none (the server pacing us is no failure).
    with api.client(RetryPolicy(max_attempts=2, max_retry_after=60.0)) as client:
        payload = client.get_json("/outlets", {"page_size": 200})
        stats = client.stats
    assert payload["data"] == [{"id": "o1", "version": 1}]
    assert len(api.requests) == 4
    assert api.params("page_size") == ["200"] * 4
    # The header's seconds plus at most half a second of jitter, then the 500's backoff.
    assert len(api.sleeps) == 3
    assert 7 <= api.sleeps[0] <= 7.5 and 2 <= api.sleeps[1] <= 2.5
    assert (stats.requests, stats.retries, stats.rate_limited) == (4, 1, 2)
    assert stats.by_status == {429: 2, 500: 1, 200: 1}


def test_a_429_with_an_http_date_waits_until_then_capped_by_max_retry_after() -> None:
    soon = format_datetime(datetime.now(UTC) + timedelta(seconds=20), usegmt=True)
    much_later = format_datetime(datetime.now(UTC) + timedelta(hours=2), usegmt=True)
    api = ScriptedApi(
        Answer(429, {}, {"Retry-After": soon}),
        Answer(429, {}, {"Retry-After": much_later}),
        OUTLETS,
    )
    with api.client(POLICY) as client:
        client.get_json("/outlets")
    assert 17 <= api.sleeps[0] <= 20.5  # whole seconds in the date: up to one less
    assert api.sleeps[1] == 60.0  # two hours asked, max_retry_after allowed


def test_rate_limited_for_too_long_fails_in_one_line() -> None:
    policy = RetryPolicy(max_rate_limited_waits=2, max_retry_after=1.0)
    api = ScriptedApi(*[Answer(429, {}, {"Retry-After": "1"})] * 3)
    with api.client(policy) as client, pytest.raises(RateLimitedError) as refused:
        client.get_json("/sales")
    assert str(refused.value) == "GET /sales: still rate limited after 2 waits"
    assert len(api.requests) == 3 and len(api.sleeps) == 2


def test_5xx_is_retried_with_growing_backoff_then_succeeds() -> None:
    api = ScriptedApi(Answer(503, {}), Answer(502, b"<html>bad gateway</html>"), OUTLETS)
    with api.client(POLICY) as client:
        payload = client.get_json("/outlets", {"after": 0})
        stats = client.stats
    assert payload["version"] == {"max": 1}
    assert len(api.requests) == 3
    assert api.params("after") == ["0"] * 3  # each retry asks for the same page
    # Full jitter under a ceiling that doubles: 0.5 s, then 1 s.
    assert len(api.sleeps) == 2
    assert 0 <= api.sleeps[0] <= 0.5 and 0 <= api.sleeps[1] <= 1.0
    assert (stats.requests, stats.retries) == (3, 2)


def test_a_truncated_body_is_retried() -> None:
    api = ScriptedApi(Answer(200, b'{"data": [{"id": "o1", "vers'), OUTLETS)
    with api.client(POLICY) as client:
        payload = client.get_json("/outlets")
    assert payload["data"][0]["id"] == "o1"
    assert len(api.requests) == 2 and len(api.sleeps) == 1


def test_the_retry_budget_exhausted_fails_in_one_line() -> None:
    api = ScriptedApi(*[Answer(500, {"error": "boom"})] * 3)
    with api.client(POLICY) as client, pytest.raises(TransientError) as refused:
        client.get_json("/sales", {"after": 42})
    assert str(refused.value) == "GET /sales: HTTP 500 (gave up after 3 attempts)"
    assert len(api.requests) == 3  # max_attempts, not one more
    assert len(api.sleeps) == 2  # no wait after the last attempt
    assert api.unanswered == 0


@pytest.mark.parametrize("status", [401, 403])
def test_a_rejected_token_is_not_retried(status: int) -> None:
    api = ScriptedApi(Answer(status, {"error": "invalid token"}), OUTLETS)
    with api.client(POLICY) as client, pytest.raises(AuthError) as refused:
        client.get_json("/outlets")
    assert str(refused.value) == (
        f"the API rejected the token ({status} on GET /outlets): "
        "check the token setting and its scopes"
    )
    assert "secret-token" not in str(refused.value)
    assert len(api.requests) == 1 and api.sleeps == []
    assert api.requests[0].headers["Authorization"] == "Bearer secret-token"


def test_pacing_waits_window_over_remaining_once_the_budget_runs_low() -> None:
    def limited(remaining: int) -> Answer:
        headers = {"X-RateLimit-Limit": "100", "X-RateLimit-Remaining": str(remaining)}
        return page(headers=headers, data=[], version={})

    api = ScriptedApi(limited(50), limited(20), limited(10), limited(90), limited(90))
    pacing = Pacing(window_seconds=300.0, reserve_fraction=0.2)
    with api.client(POLICY, pacing) as client:
        for _ in range(5):
            client.get_json("/sales")
        waited = client.stats.waited_seconds
    # No header yet, 50 left: no wait. 20 and 10 left (at most a fifth of 100): 300/20 and
    # 300/10 seconds before the next request. 90 left: no wait again.
    assert api.sleeps == [15.0, 30.0]
    assert waited == 45.0
    assert len(api.requests) == 5
