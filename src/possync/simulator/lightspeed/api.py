"""HTTP handlers of the simulated Lightspeed X-Series API 2.0 (paths relative to /api/2.0).

List endpoints page by version: `after` (exclusive, default 0), `before` (exclusive upper
bound), `page_size` (default 100), ascending `version`; the envelope is
`{"data": [...], "version": {"min": N, "max": N}}` with null min/max on an empty page.
"""

from __future__ import annotations

import time
from typing import Any

import orjson
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Request, Response

from possync.simulator.faults import FaultInjector
from possync.simulator.lightspeed.params import (
    BadRequest,
    boolean_param,
    integer_param,
    optional_integer_param,
)
from possync.simulator.lightspeed.ratelimit import RateLimiter, http_date
from possync.simulator.lightspeed.search import search_page
from possync.simulator.lightspeed.state import LightspeedState

# path -> (entity, whether the spec gives it a `deleted` parameter). Lists without one
# return deleted records too (with deleted_at), as real /sales does.
LIST_ENDPOINTS = {
    "outlets": ("outlets", True),
    "registers": ("registers", True),
    "users": ("users", False),
    "taxes": ("taxes", False),
    "payment_types": ("payment_types", False),
    "brands": ("brands", False),
    "suppliers": ("suppliers", False),
    "customer_groups": ("customer_groups", True),
    "products": ("products", True),
    "customers": ("customers", True),
    "inventory": ("inventory", False),
    "sales": ("sales", False),
}
SINGLE_ENDPOINTS = frozenset(
    {"outlets", "registers", "users", "brands", "suppliers", "customer_groups", "products"}
    | {"customers", "sales"}
)
ERRORS = {
    "unauthorized": {"error": "Access token is not valid"},
    "token_expired": {"error": "Access token has expired"},
    "token_revoked": {"error": "Access token has been revoked"},
    "server_error": {"error": "Internal Server Error", "message": "Something went wrong"},
    "rate_limited": {"error": "Too Many Requests", "message": "Rate limiting enforced"},
    "not_found": {"error": "Not Found", "message": "The requested resource was not found"},
}
DEFAULT_PAGE_SIZE = 100
CATEGORY_PAGE_SIZE = 1000


class LightspeedApi:
    """Routes requests to the store's data; the caller has already checked the token."""

    def __init__(self, state: LightspeedState, limiter: RateLimiter) -> None:
        self.state = state
        self.limiter = limiter

    def handle(self, request: Request, path: str, faults: FaultInjector) -> Response:
        """Answer one API request."""
        if not self.limiter.admit():
            response = self.error_response(429, "rate_limited")
            response.headers["Retry-After"] = self.limiter.retry_after()
            return response
        if request.method != "GET":
            return self._json(405, {"error": "Method Not Allowed", "message": "read only"})
        parts = path.strip("/").split("/")
        try:
            if len(parts) == 1 and parts[0] in LIST_ENDPOINTS:
                return self._list(parts[0], request.args, faults)
            if len(parts) == 2 and parts[0] in SINGLE_ENDPOINTS:
                return self._single(parts[0], parts[1])
            if parts == ["product_categories"]:
                return self._categories(request.args)
            if parts == ["search"]:
                with self.state.lock:
                    bodies = search_page(self.state, request.args)
                return self._bytes(200, b'{"data":[' + b",".join(bodies) + b"]}")
        except BadRequest as exc:
            return self._json(400, {"error": "Bad Request", "message": str(exc)})
        return self.error_response(404, "not_found")

    def error_response(self, status: int, kind: str) -> Response:
        """Lightspeed's error body; a 429 says when to retry as an HTTP date."""
        response = self._json(status, ERRORS.get(kind, {"error": kind}))
        if status == 429:
            response.headers["Retry-After"] = http_date(time.time() + 1)
        return response

    def _list(self, endpoint: str, args: MultiDict[str, str], faults: FaultInjector) -> Response:
        entity, has_deleted = LIST_ENDPOINTS[endpoint]
        after = integer_param(args, "after", 0, minimum=0)
        before = optional_integer_param(args, "before")
        page_size = integer_param(args, "page_size", DEFAULT_PAGE_SIZE, minimum=1)
        include_deleted = boolean_param(args, "deleted") if has_deleted else True
        if page_size > 1 and faults.should("short_page"):
            page_size = faults.randint(1, page_size // 2)
        with self.state.lock:
            page = self.state.feeds[entity].page(
                after, before, page_size, include_deleted=include_deleted
            )
        versions = b'{"min":null,"max":null}'
        if page.min_version is not None and page.max_version is not None:
            versions = b'{"min":%d,"max":%d}' % (page.min_version, page.max_version)
        body = b'{"data":[' + b",".join(page.bodies) + b'],"version":' + versions + b"}"
        return self._bytes(200, body)

    def _single(self, endpoint: str, record_id: str) -> Response:
        entity = LIST_ENDPOINTS[endpoint][0]
        with self.state.lock:
            record = self.state.feeds[entity].get(record_id)
        if record is None:
            return self.error_response(404, "not_found")
        return self._bytes(200, b'{"data":' + record.body + b"}")

    def _categories(self, args: MultiDict[str, str]) -> Response:
        """Product categories: sorted by path, paged by category id (`after`), not version."""
        page_size = integer_param(args, "page_size", CATEGORY_PAGE_SIZE, minimum=1)
        parent = args.get("parent")
        only_children = args.get("include") == "children"
        with self.state.lock:
            categories = sorted(
                self.state.records["product_categories"].values(),
                key=lambda c: ([step["name"] for step in c["category_path"]], c["id"]),
            )
        if parent == "none":
            categories = [c for c in categories if "parent_category_id" not in c]
        elif parent:
            categories = [
                c
                for c in categories
                if (
                    c.get("parent_category_id") == parent
                    if only_children
                    else c["id"] != parent and parent in {s["id"] for s in c["category_path"]}
                )
            ]
        start = 0
        after = args.get("after")
        if after:
            ids = [c["id"] for c in categories]
            start = ids.index(after) + 1 if after in ids else len(ids)
        page = categories[start : start + page_size]
        page_info: dict[str, Any] = {"has_next": start + page_size < len(categories)}
        if page:
            page_info["last_seen"] = page[-1]["id"]
        return self._json(200, {"data": {"categories": page}, "page_info": page_info})

    def _json(self, status: int, body: Any) -> Response:
        return self._bytes(status, orjson.dumps(body))

    def _bytes(self, status: int, body: bytes) -> Response:
        response = Response(body, status=status, mimetype="application/json")
        response.headers.update(self.limiter.headers())
        return response
