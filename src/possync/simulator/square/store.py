"""`SquareStore`: the simulated Square API (mounted at /v2/ by the simulator app)."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from typing import Any

import orjson
from werkzeug.wrappers import Request, Response

from possync.simulator.clock import SimClock
from possync.simulator.faults import FaultInjector
from possync.simulator.square import (
    endpoints_catalog,
    endpoints_customers,
    endpoints_inventory,
    endpoints_orders,
    endpoints_payments,
)
from possync.simulator.square.common import (
    DEFAULT_SQUARE_VERSION,
    SquareRequestError,
    now_ms,
)
from possync.simulator.square.corrupt import corrupt
from possync.simulator.square.generate import build_world
from possync.simulator.square.model import SquareData
from possync.simulator.square.params import json_body, query_args
from possync.simulator.square.scales import activity
from possync.simulator.square.timeline import simulate
from possync.simulator.square.truth import daily_truth, entity_truth

Endpoint = Callable[[SquareData, Any, FaultInjector, int], bytes]

# (method, path) → (reads a JSON body, handler)
ROUTES: dict[tuple[str, str], tuple[bool, Endpoint]] = {
    ("GET", "/locations"): (False, endpoints_inventory.list_locations),
    ("GET", "/catalog/list"): (False, endpoints_catalog.list_catalog),
    ("POST", "/catalog/search"): (True, endpoints_catalog.search_catalog),
    ("POST", "/orders/search"): (True, endpoints_orders.search_orders),
    ("POST", "/inventory/counts/batch-retrieve"): (True, endpoints_inventory.batch_retrieve_counts),
    ("GET", "/customers"): (False, endpoints_customers.list_customers),
    ("POST", "/customers/search"): (True, endpoints_customers.search_customers),
    ("GET", "/payments"): (False, endpoints_payments.list_payments),
    ("GET", "/refunds"): (False, endpoints_payments.list_refunds),
}
KNOWN_PATHS = {path for _, path in ROUTES}
VERSION_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}$")
CHANGE_KINDS = (
    "new_orders", "completed_orders", "canceled_orders", "order_edits", "late_offline_orders",
    "refunds", "refunds_completed", "price_changes", "catalog_deletes", "new_items",
    "inventory_changes", "new_customers", "customer_edits",
)  # fmt: skip
FAULT_ERRORS: dict[str, tuple[int, str, str, str]] = {
    "unauthorized": (
        401, "AUTHENTICATION_ERROR", "UNAUTHORIZED",
        "This request could not be authorized. Send `Authorization: Bearer ACCESS_TOKEN`.",
    ),
    "token_expired": (
        401, "AUTHENTICATION_ERROR", "ACCESS_TOKEN_EXPIRED", "The access token has expired.",
    ),
    "token_revoked": (
        401, "AUTHENTICATION_ERROR", "ACCESS_TOKEN_REVOKED", "The access token has been revoked.",
    ),
    "rate_limited": (429, "RATE_LIMIT_ERROR", "RATE_LIMITED", "Too many requests; back off."),
    "server_error": (500, "API_ERROR", "INTERNAL_SERVER_ERROR", "An internal error occurred."),
    "not_found": (404, "INVALID_REQUEST_ERROR", "NOT_FOUND", "Resource not found."),
}  # fmt: skip
SERVER_ERROR_CODES = {502: "BAD_GATEWAY", 503: "SERVICE_UNAVAILABLE", 504: "GATEWAY_TIMEOUT"}


class SquareStore:
    """A deterministic Square seller served over Square's API (see docs/simulator-square.md)."""

    def __init__(self, seed: int, scale: str, clock: SimClock) -> None:
        self._clock = clock
        self._lock = threading.RLock()
        self._world = build_world(seed, scale, now_ms(clock.now()))
        self._rate_limited = 0

    @property
    def data(self) -> SquareData:
        """The served records (for tests and benchmarks; not synchronized)."""
        return self._world.data

    @property
    def merchant_id(self) -> str:
        """The seller's merchant id (its locations carry it; OAuth tokens name it)."""
        return self._world.merchant_id

    def handle(self, request: Request, path: str, faults: FaultInjector) -> Response:
        """Answer one request below /v2."""
        version = request.headers.get("Square-Version", DEFAULT_SQUARE_VERSION)
        route = ROUTES.get((request.method, path.rstrip("/") or "/"))
        try:
            if not VERSION_PATTERN.match(version):
                version = DEFAULT_SQUARE_VERSION
                raise SquareRequestError(
                    400,
                    "INVALID_SQUARE_VERSION_FORMAT",
                    "Square-Version must look like YYYY-MM-DD.",
                )
            if route is None:
                if path.rstrip("/") in KNOWN_PATHS:
                    raise SquareRequestError(405, "METHOD_NOT_ALLOWED", "Method not allowed.")
                raise SquareRequestError(404, "NOT_FOUND", f"No endpoint at /v2{path}.")
            reads_body, endpoint = route
            params = json_body(request) if reads_body else query_args(request)
            with self._lock:
                body = endpoint(self._world.data, params, faults, now_ms(self._clock.now()))
            return _json(body, 200, version)
        except SquareRequestError as error:
            return _json(orjson.dumps(error.envelope()), error.status, version)

    def error_response(self, status: int, kind: str) -> Response:
        """Square's error envelope for a fault the framework injects (or a failed login)."""
        default = FAULT_ERRORS["server_error"] if status >= 500 else FAULT_ERRORS["not_found"]
        _, category, code, detail = FAULT_ERRORS.get(kind, default)
        if status in SERVER_ERROR_CODES:
            code = SERVER_ERROR_CODES[status]
        envelope = {"errors": [{"category": category, "code": code, "detail": detail}]}
        response = _json(orjson.dumps(envelope), status, DEFAULT_SQUARE_VERSION)
        if kind == "rate_limited":
            with self._lock:
                self._rate_limited += 1
                # Square does not promise Retry-After: send it on every other 429.
                if self._rate_limited % 2:
                    response.headers["Retry-After"] = "1"
        return response

    def advance(self, minutes: int) -> dict[str, int]:
        """Let the seller trade until the (already advanced) clock; counts of what changed."""
        with self._lock:
            world = self._world
            end_ms = now_ms(self._clock.now())
            simulate(world, world.horizon_ms, end_ms, activity(world.scale, live=True))
            changes = {kind: world.happened.get(kind, 0) for kind in CHANGE_KINDS}
            world.happened.clear()
            return changes

    def corrupt(self, entity: str, count: int) -> list[str]:
        """Re-serve `count` orders, payments or customers malformed (quarantine tests)."""
        with self._lock:
            return corrupt(self._world, entity, count, now_ms(self._clock.now()))

    def truth(self) -> dict[str, Any]:
        """Ids alive/deleted per entity and COMPLETED-order totals per location and local day."""
        with self._lock:
            return {
                "entities": entity_truth(self._world.data),
                "daily": daily_truth(self._world.data),
                "malformed": {
                    entity: sorted(ids) for entity, ids in self._world.data.malformed.items()
                },
                "clock": self._clock.now().isoformat(),
            }


def _json(body: bytes, status: int, version: str) -> Response:
    response = Response(body, status=status, mimetype="application/json")
    response.headers["Square-Version"] = version
    return response
