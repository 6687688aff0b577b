"""A transport that renews the access token when the API answers 401, and resends once.

Access tokens expire on the vendor's clock, which may run ahead of ours (the simulator's
travels): a 401 is then the first sign. `renew(refused)` returns the token to use instead (a
fresh one, or one another worker stored meanwhile), or None when there is none; every later
request carries the renewed token. Requests only: the caller stores the tokens.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import httpx

Renew = Callable[[str], str | None]


class RenewingTransport(httpx.BaseTransport):
    """Wraps another transport; bearer tokens only."""

    def __init__(self, token: str, renew: Renew, inner: httpx.BaseTransport | None = None) -> None:
        self._inner = inner or httpx.HTTPTransport()
        self._renew = renew
        self._token = token
        self._lock = threading.Lock()
        self.renewals = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            used = self._token
        request.headers["Authorization"] = f"Bearer {used}"
        response = self._inner.handle_request(request)
        if response.status_code != 401:
            return response
        renewed = self._renewed_token(used)
        if renewed is None:
            return response
        response.read()
        response.close()
        request.headers["Authorization"] = f"Bearer {renewed}"
        return self._inner.handle_request(request)

    def _renewed_token(self, refused: str) -> str | None:
        # One renewal per refused token in this process: threads fetching pages at the same
        # time wait for it and then share the token it got.
        with self._lock:
            if self._token != refused:
                return self._token
            renewed = self._renew(refused)
            if renewed is None or renewed == refused:
                return None
            self._token = renewed
            self.renewals += 1
            return renewed

    def close(self) -> None:
        self._inner.close()
