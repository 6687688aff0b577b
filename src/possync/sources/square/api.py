"""Square's HTTP conventions: the error envelope, timestamps, and one request with counting.

Square answers errors as `{"errors": [{"category", "code", "detail", "field"}]}`. An expired
or foreign pagination cursor is `400 INVALID_CURSOR`: the walkers restart their query then.
Rate limits (429 `RATE_LIMITED`), 5xx and resets are retried by `ApiClient`, with jitter.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson

from possync.errors import SourceError
from possync.sources.http import ApiClient
from possync.sources.shapes import json_object, page_records, square_shape

LOCATIONS_PATH = "/v2/locations"
ORDERS_SEARCH_PATH = "/v2/orders/search"
CATALOG_LIST_PATH = "/v2/catalog/list"
CATALOG_SEARCH_PATH = "/v2/catalog/search"
INVENTORY_COUNTS_PATH = "/v2/inventory/counts/batch-retrieve"
CUSTOMERS_SEARCH_PATH = "/v2/customers/search"
PAYMENTS_PATH = "/v2/payments"
REFUNDS_PATH = "/v2/refunds"

# Payments and refunds filter `begin_time` on created_at and default it to a year ago:
# an explicit early start keeps old payments whose refunds changed them in reach.
EARLIEST_TIME = "2000-01-01T00:00:00Z"


class CursorExpiredError(SourceError):
    """Square refused a pagination cursor (expired, or issued for another query)."""


def square_error(response: httpx.Response) -> SourceError | None:
    """Square's error envelope as one line (`ApiClient` calls this for every answer)."""
    if response.status_code < 400:
        return None
    errors: list[Any] = []
    try:
        body = orjson.loads(response.content)
        if isinstance(body, dict) and isinstance(body.get("errors"), list):
            errors = body["errors"]
    except orjson.JSONDecodeError:
        pass
    first = errors[0] if errors and isinstance(errors[0], dict) else {}
    code = str(first.get("code") or "")
    where = f"{response.request.method} {response.request.url.path}"
    detail = str(first.get("detail") or "").replace("\n", " ")[:200]
    if code == "INVALID_CURSOR":
        return CursorExpiredError(f"{where}: the pagination cursor expired ({detail})")
    label = code or f"HTTP {response.status_code}"
    return SourceError(f"{where}: {response.status_code} {label}: {detail or 'no detail'}")


def square_time(moment: datetime) -> str:
    """RFC 3339 in UTC with microseconds, as Square accepts in filters."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def parse_time(value: Any) -> datetime | None:
    """A Square timestamp (any precision, `Z` or an offset) as an aware datetime."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def latest_time(records: list[Any], field: str, current: datetime | None) -> datetime | None:
    """The newest `field` among records and `current` (Square's own clock, as seen so far)."""
    newest = current
    for record in records:
        moment = parse_time(record.get(field)) if isinstance(record, dict) else None
        if moment is not None and (newest is None or moment > newest):
            newest = moment
    return newest


def call(
    client: ApiClient,
    method: str,
    path: str,
    *,
    params: Mapping[str, Any] | None = None,
    body: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """One Square request (retried by the client); the JSON object it answered."""
    payload = client.request_json(
        method, path, params=params, json_body=body, error_parser=square_error
    )
    return json_object(payload, f"{method} {path}")


def records_of(payload: dict[str, Any], key: str, where: str) -> list[dict[str, Any]]:
    """The list under `key`, once the answer is known to be a well-formed page (`shapes`);
    Square leaves the key out of an empty page."""
    return page_records(payload, square_shape(where, key))


def list_location_ids(client: ApiClient) -> list[str]:
    """Every location id (inactive ones too: their history still counts), sorted."""
    payload = call(client, "GET", LOCATIONS_PATH)
    ids = {
        str(loc["id"])
        for loc in records_of(payload, "locations", f"GET {LOCATIONS_PATH}")
        if isinstance(loc, dict) and loc.get("id")
    }
    return sorted(ids)
