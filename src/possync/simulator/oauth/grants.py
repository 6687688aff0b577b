"""What the simulated OAuth servers have issued: codes, access and refresh tokens, counters.

One `OAuthAuthority` serves both vendors; every grant is tagged with its vendor and store. All
times are on the simulated clock, so moving it forward expires codes and access tokens. One lock
guards everything: two workers refreshing the same connection at once see one win and one
`invalid_grant` (Lightspeed), as against the real server.
"""

from __future__ import annotations

import secrets
import threading
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from possync.simulator.clock import SimClock

CODE_LIFETIME = timedelta(minutes=5)  # both vendors: single use, five minutes
VENDORS = ("lightspeed", "square")
COUNTERS = (
    "codes_issued",
    "codes_exchanged",
    "codes_refused",
    "access_tokens_issued",
    "refreshes",
    "reused_refresh_tokens",
    "refused_refresh_tokens",
    "revocations",
    "refused_access_tokens",
)
TOKEN_PREFIXES = {"lightspeed": ("lsat_", "lsrt_"), "square": ("EAAAsim", "EQAAsim")}


class GrantRefused(Exception):
    """A code or refresh token that cannot be exchanged (OAuth's `invalid_grant`)."""


class AccessStatus(Enum):
    """What an API should make of a presented OAuth access token."""

    VALID = "valid"
    EXPIRED = "expired"
    REVOKED = "revoked"


@dataclass
class _Code:
    vendor: str
    store: int
    client_id: str
    redirect_uri: str
    scope: str
    expires_at: datetime
    used: bool = False


@dataclass
class _Access:
    vendor: str
    store: int
    client_id: str
    expires_at: datetime
    revoked: bool = False


@dataclass
class _Refresh:
    vendor: str
    store: int
    client_id: str
    scope: str
    rotated: bool = False
    revoked: bool = False


@dataclass(frozen=True)
class IssuedTokens:
    """An access token, its refresh token and what they are for."""

    access_token: str
    refresh_token: str
    expires_at: datetime
    store: int
    scope: str


@dataclass(frozen=True)
class AccessCheck:
    """The store an access token was issued for, and whether it still opens it."""

    vendor: str
    store: int
    status: AccessStatus


class OAuthAuthority:
    """Thread-safe registry of everything both simulated OAuth servers issued."""

    def __init__(self, clock: SimClock, access_lifetimes: dict[str, timedelta]) -> None:
        self._clock = clock
        self._lifetimes = access_lifetimes
        self._lock = threading.Lock()
        self._codes: dict[str, _Code] = {}
        self._access: dict[str, _Access] = {}
        self._refresh: dict[str, _Refresh] = {}
        self._counts: dict[str, Counter[str]] = {vendor: Counter() for vendor in VENDORS}

    def now(self) -> datetime:
        """The simulated instant tokens and codes are measured against."""
        return self._clock.now()

    def issue_code(
        self, vendor: str, store: int, client_id: str, redirect_uri: str, scope: str
    ) -> str:
        """A fresh authorization code for `store`, valid five simulated minutes, once."""
        code = secrets.token_urlsafe(24)
        with self._lock:
            expires = self._clock.now() + CODE_LIFETIME
            self._codes[code] = _Code(vendor, store, client_id, redirect_uri, scope, expires)
            self._counts[vendor]["codes_issued"] += 1
        return code

    def exchange_code(
        self,
        vendor: str,
        code: str,
        client_id: str,
        redirect_uri: str | None,
        store: int | None = None,
    ) -> IssuedTokens:
        """Tokens for a code; GrantRefused if it is unknown, used, expired, not this client's
        or (when given) not for this `redirect_uri` or `store`."""
        with self._lock:
            grant = self._codes.get(code)
            problem = None
            if grant is None or grant.vendor != vendor or grant.client_id != client_id:
                problem = "the authorization code is not valid"
            elif store is not None and grant.store != store:
                problem = "the authorization code is for another store"
            elif grant.used:
                problem = "the authorization code was already used"
            elif self._clock.now() >= grant.expires_at:
                problem = "the authorization code has expired"
            elif redirect_uri is not None and redirect_uri != grant.redirect_uri:
                problem = "redirect_uri does not match the authorization request"
            if problem is not None or grant is None:
                self._counts[vendor]["codes_refused"] += 1
                raise GrantRefused(problem)
            grant.used = True
            self._counts[vendor]["codes_exchanged"] += 1
            refresh_token = self._new_refresh(vendor, grant.store, client_id, grant.scope)
            return self._issue_access(vendor, grant.store, client_id, grant.scope, refresh_token)

    def refresh(
        self,
        vendor: str,
        refresh_token: str,
        client_id: str,
        *,
        rotate: bool,
        store: int | None = None,
    ) -> IssuedTokens:
        """A new access token. `rotate` (Lightspeed) also replaces the refresh token and
        retires the one used, whose reuse is refused and counted."""
        with self._lock:
            grant = self._refresh.get(refresh_token)
            counts = self._counts[vendor]
            if (
                grant is None
                or grant.vendor != vendor
                or grant.client_id != client_id
                or (store is not None and grant.store != store)
            ):
                counts["refused_refresh_tokens"] += 1
                raise GrantRefused("the refresh token is not valid")
            if grant.rotated:
                counts["reused_refresh_tokens"] += 1
                raise GrantRefused("the refresh token was already used")
            if grant.revoked:
                counts["refused_refresh_tokens"] += 1
                raise GrantRefused("the refresh token has been revoked")
            if rotate:
                grant.rotated = True
                refresh_token = self._new_refresh(vendor, grant.store, client_id, grant.scope)
            counts["refreshes"] += 1
            return self._issue_access(vendor, grant.store, client_id, grant.scope, refresh_token)

    def check_access(self, token: str) -> AccessCheck | None:
        """The store behind an OAuth access token (None if it was never issued)."""
        with self._lock:
            grant = self._access.get(token)
            if grant is None:
                return None
            status = AccessStatus.VALID
            if grant.revoked:
                status = AccessStatus.REVOKED
            elif self._clock.now() >= grant.expires_at:
                status = AccessStatus.EXPIRED
            if status is not AccessStatus.VALID:
                self._counts[grant.vendor]["refused_access_tokens"] += 1
            return AccessCheck(grant.vendor, grant.store, status)

    def store_of_access_token(self, vendor: str, token: str) -> int | None:
        """The store a (possibly expired) access token of `vendor` was issued for."""
        with self._lock:
            grant = self._access.get(token)
            return grant.store if grant is not None and grant.vendor == vendor else None

    def revoke(self, vendor: str, client_id: str, store: int) -> int:
        """Revoke every access and refresh token `client_id` holds for `store` (as Square
        does: all of an app's tokens for the seller); how many access tokens were live."""
        with self._lock:
            revoked = 0
            for access in self._access.values():
                if (access.vendor, access.client_id, access.store) == (vendor, client_id, store):
                    revoked += 0 if access.revoked else 1
                    access.revoked = True
            for refresh in self._refresh.values():
                if (refresh.vendor, refresh.client_id, refresh.store) == (vendor, client_id, store):
                    refresh.revoked = True
            self._counts[vendor]["revocations"] += 1
            return revoked

    def counters(self) -> dict[str, object]:
        """Totals of `COUNTERS` across vendors, and the same per vendor."""
        with self._lock:
            per_vendor = {
                vendor: {name: self._counts[vendor][name] for name in COUNTERS}
                for vendor in VENDORS
            }
        totals: dict[str, object] = {
            name: sum(per_vendor[vendor][name] for vendor in VENDORS) for name in COUNTERS
        }
        return {**totals, **per_vendor}

    def _new_refresh(self, vendor: str, store: int, client_id: str, scope: str) -> str:
        token = TOKEN_PREFIXES[vendor][1] + secrets.token_urlsafe(32)
        self._refresh[token] = _Refresh(vendor, store, client_id, scope)
        return token

    def _issue_access(
        self, vendor: str, store: int, client_id: str, scope: str, refresh_token: str
    ) -> IssuedTokens:
        token = TOKEN_PREFIXES[vendor][0] + secrets.token_urlsafe(32)
        expires_at = self._clock.now() + self._lifetimes[vendor]
        self._access[token] = _Access(vendor, store, client_id, expires_at)
        self._counts[vendor]["access_tokens_issued"] += 1
        return IssuedTokens(token, refresh_token, expires_at, store, scope)
