"""What a vendor's token endpoint answers, read into one shape, and its refusals.

Expiry is kept on possync's own clock: the lifetime is the vendor's expiry minus the vendor's
own clock (its `Date` header), added to ours. A server whose clock disagrees with ours (or the
simulator, whose clock travels) then still gets its tokens refreshed before they lapse.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from pydantic import SecretStr

from possync.errors import AuthError, TransientError
from possync.sources.http import http_date

READ_SCOPES = {
    # Lightspeed: space separated, one per domain (products:read covers brands and product
    # categories, customers:read customer groups); https://x-series-api.lightspeedhq.com/docs/scopes
    "lightspeed": (
        "outlets:read registers:read users:read taxes:read payment_types:read products:read "
        "suppliers:read customers:read inventory:read sales:read"
    ),
    "square": (
        "ORDERS_READ ITEMS_READ INVENTORY_READ CUSTOMERS_READ PAYMENTS_READ MERCHANT_PROFILE_READ"
    ),
}


class GrantRefused(AuthError):
    """The vendor refused the code or refresh token for good (`invalid_grant`: revoked,
    rotated away or expired). The message holds no token."""


class AppCredentialsRefused(AuthError):
    """The vendor refused possync's client id or secret: a setting to fix."""


class OAuthUnavailable(TransientError):
    """The token endpoint could not be reached or failed (network, 5xx): may pass."""


@dataclass(frozen=True)
class TokenGrant:
    """An access token and what came with it, expiry on possync's clock."""

    access_token: SecretStr
    refresh_token: SecretStr | None
    expires_at: datetime | None
    domain_prefix: str | None = None  # Lightspeed: the store connected
    merchant_id: str | None = None  # Square: the seller connected


def vendor_clock(response: httpx.Response) -> datetime | None:
    """The vendor's clock when it answered (its `Date` header), if readable."""
    return http_date(response.headers.get("Date"))


def local_expiry(
    response: httpx.Response, vendor_expiry: datetime | None, now: datetime
) -> datetime | None:
    """`vendor_expiry` moved onto our clock (`now`) by the vendor's `Date` header."""
    if vendor_expiry is None:
        return None
    answered = vendor_clock(response)
    if answered is None:
        return vendor_expiry
    return now + max(vendor_expiry - answered, timedelta(0))
