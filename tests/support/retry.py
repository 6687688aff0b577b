"""The retry policy of tests that talk to a simulator or a stub: the same attempts and
backoff shape as production, waits of milliseconds instead of seconds."""

from __future__ import annotations

import dataclasses

from possync.sources.http import RetryPolicy

# Retry-After is capped too: the simulators' 429s say "1 second", which tests need not wait.
FAST_RETRY = RetryPolicy(max_attempts=12, base_delay=0.01, max_delay=0.05, max_retry_after=0.05)


def fast_retry(*, max_attempts: int) -> RetryPolicy:
    """FAST_RETRY giving up after `max_attempts`: for tests that want a failure to be final
    sooner (or later) than the usual twelve attempts."""
    return dataclasses.replace(FAST_RETRY, max_attempts=max_attempts)
