"""The simulator's WSGI app: both POS APIs behind one host, plus control endpoints.

Lightspeed X-Series is mounted at ``/api/2.0/`` (also under a domain-prefix segment,
``/store-k/api/2.0/``) and Square at ``/v2/``. This layer picks the store the bearer token
opens (`TOKEN`, `TOKEN-k` or an OAuth access token) and injects that store's transport-level
faults (latency, 5xx, 429 bursts, connection resets, truncated bodies); the API modules decide
the API-level ones (short pages, expired cursors, Lightspeed's own rate limit). The vendors'
OAuth servers (`oauth/`) and the control endpoints under ``/_simulator/`` need no token.
"""

from __future__ import annotations

import hmac
import importlib
import socket
import struct
import time
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any, Protocol, cast

from werkzeug.http import http_date
from werkzeug.wrappers import Request, Response

from possync.simulator.clock import SimClock
from possync.simulator.config import SimulatorConfig
from possync.simulator.control import answer_control, json_response
from possync.simulator.faults import FaultConfig, FaultInjector
from possync.simulator.oauth import (
    TOKEN_PATH,
    AccessStatus,
    LightspeedOAuth,
    OAuthAuthority,
    OAuthServers,
    SquareOAuth,
)
from possync.simulator.stores import (
    SimulatedStore,
    StoreSet,
    domain_prefix,
    store_of_prefix,
    store_scale,
)

LIGHTSPEED_MOUNT = "/api/2.0"
SQUARE_MOUNT = "/v2"
CONTROL_PREFIX = "/_simulator"
RESET_MARKER = "possync.simulator.reset"
SQUARE_ACCESS_LIFETIME = timedelta(days=30)

StartResponse = Callable[..., Any]


class ApiSimulation(Protocol):
    """One simulated POS API (see .team/SIMULATOR.md)."""

    def handle(self, request: Request, path: str, faults: FaultInjector) -> Response:
        """Answer a request; `path` is relative to the mount (e.g. "/sales")."""
        ...

    def error_response(self, status: int, kind: str) -> Response:
        """The API's own error body for kind unauthorized/token_expired/token_revoked/
        server_error/rate_limited/not_found."""
        ...

    def advance(self, minutes: int) -> dict[str, int]:
        """Move the store forward (the clock already moved); counts of what changed."""
        ...

    def truth(self) -> dict[str, Any]:
        """Ground truth, JSON-ready."""
        ...


class SupportsCorruption(Protocol):
    """An API whose store can make existing records malformed (quarantine tests)."""

    def corrupt(self, entity: str, count: int) -> list[str]:
        """Make `count` records of `entity` malformed; return their ids."""
        ...


def _load_square_factory() -> Callable[[int, str, SimClock], ApiSimulation] | None:
    """`SquareStore` if the Square simulator is installed, else None (built in parallel)."""
    try:
        module = importlib.import_module("possync.simulator.square")
    except ModuleNotFoundError as exc:
        if exc.name is not None and exc.name.startswith("possync.simulator.square"):
            return None
        raise
    factory = getattr(module, "SquareStore", None)
    return cast("Callable[[int, str, SimClock], ApiSimulation] | None", factory)


class Simulator:
    """The WSGI application. Also the Python handle: `advance`, `truth`, `set_faults`.

    `apis` and `faults` are store 1's (the only store unless `config.stores` > 1).
    """

    def __init__(self, config: SimulatorConfig | None = None) -> None:
        self.config = config or SimulatorConfig()
        self.clock = SimClock()
        self.stores = StoreSet(self.config, self.clock, self._build_apis)
        first = self.stores.get(1)
        self.apis: dict[str, ApiSimulation] = first.apis
        self.faults = first.faults
        self._mounts = [
            (mount, name)
            for mount, name in ((LIGHTSPEED_MOUNT, "lightspeed"), (SQUARE_MOUNT, "square"))
            if name in self.apis
        ]
        self.oauth_authority = OAuthAuthority(
            self.clock,
            {
                "lightspeed": timedelta(seconds=self.config.lightspeed_token_seconds),
                "square": SQUARE_ACCESS_LIFETIME,
            },
        )
        secret, count = self.config.oauth_client_secret, self.stores.count
        self._lightspeed_oauth = (
            LightspeedOAuth(self.oauth_authority, secret, count)
            if "lightspeed" in self.apis
            else None
        )
        square_oauth = None
        if "square" in self.apis:
            square_oauth = SquareOAuth(
                self.oauth_authority, secret, count, self._merchant_of, self._store_of_merchant
            )
        self._oauth = OAuthServers(self._lightspeed_oauth, square_oauth)

    def _build_apis(self, seed: int, scale: str, clock: SimClock) -> dict[str, Any]:
        apis: dict[str, Any] = {}
        if self.config.lightspeed:
            from possync.simulator.lightspeed import LightspeedStore

            apis["lightspeed"] = LightspeedStore(
                seed,
                scale,
                clock,
                rate_limit=self.config.rate_limit,
                rate_limit_window_seconds=self.config.rate_limit_window_seconds,
            )
        if self.config.square:
            square_factory = _load_square_factory()
            if square_factory is not None:
                apis["square"] = square_factory(seed, scale, clock)
        return apis

    # --- Python control surface ---

    def store(self, number: int) -> SimulatedStore:
        """Store `number` (1..`config.stores`), built now if it was not yet."""
        return self.stores.get(number)

    def advance(self, minutes: int) -> dict[str, Any]:
        """Move simulated time forward; every store makes its changes. Store 1's counts per
        API (and, with several stores, every built store's under "stores")."""
        if minutes < 0:
            raise ValueError("minutes must not be negative")
        self.clock.advance(minutes)
        per_store = self.stores.advance(minutes)
        changes: dict[str, Any] = dict(per_store[1])
        changes["clock"] = self.clock.now().isoformat()
        if self.stores.count > 1:
            changes["stores"] = {str(number): counts for number, counts in per_store.items()}
        return changes

    def truth(self, store: int = 1) -> dict[str, Any]:
        """Ground truth of a store's APIs: `{"lightspeed": {...}, "square": {...}}`."""
        return {name: api.truth() for name, api in self.store(store).apis.items()}

    def set_faults(self, config: FaultConfig, store: int | None = None) -> None:
        """Replace the fault configuration of one store, or of every store when None."""
        self.stores.set_faults(config, store)

    def corrupt(self, api: str, entity: str, count: int, store: int = 1) -> list[str]:
        """Make `count` existing records malformed in their next served version."""
        target = self.store(store).apis.get(api)
        if target is None or not hasattr(target, "corrupt"):
            raise ValueError(f"the {api} simulator cannot corrupt records")
        return cast(SupportsCorruption, target).corrupt(entity, count)

    def stats(self, store: int | None = None) -> dict[str, int]:
        """Requests served per API, by one store or (None) by all."""
        if store is not None:
            return self.store(store).stats()
        totals: dict[str, int] = {}
        for built in self.stores.built():
            for name, count in built.stats().items():
                totals[name] = totals.get(name, 0) + count
        return totals

    def describe_stores(self) -> list[dict[str, Any]]:
        """Every store: number, scale, Lightspeed domain prefix, whether built, merchant id."""
        built = {store.number: store for store in self.stores.built()}
        return [
            {
                "store": number,
                "scale": store_scale(number, self.config.scale),
                "domain_prefix": domain_prefix(number),
                "built": number in built,
                "merchant_id": built[number].merchant_id() if number in built else None,
            }
            for number in range(1, self.stores.count + 1)
        ]

    def _merchant_of(self, store: int) -> str:
        return self.store(store).merchant_id() or ""

    def _store_of_merchant(self, merchant_id: str) -> int | None:
        return next((s.number for s in self.stores.built() if s.merchant_id() == merchant_id), None)

    # --- WSGI ---

    def __call__(self, environ: dict[str, Any], answer: StartResponse) -> Iterable[bytes]:
        def start_response(status: str, headers: list[tuple[str, str]], *exc_info: Any) -> Any:
            # The POS's clock is the simulated one: `Date` agrees with the records, as live.
            return answer(status, [*headers, ("Date", http_date(self.clock.now()))], *exc_info)

        request = Request(environ)
        path = request.path
        if path.startswith(CONTROL_PREFIX + "/"):
            response = answer_control(self, request, path[len(CONTROL_PREFIX) :])
            return response(environ, start_response)
        oauth_response = self._oauth.answer(request, path)
        if oauth_response is not None:
            return oauth_response(environ, start_response)
        prefix_store, path = self._split_domain_prefix(path)
        if prefix_store is not None and self._lightspeed_oauth is not None and path == TOKEN_PATH:
            response = self._lightspeed_oauth.token(request, prefix_store)
            return response(environ, start_response)
        for mount, name in self._mounts:
            if prefix_store is not None and name != "lightspeed":
                continue
            if path == mount or path.startswith(mount + "/"):
                return self._serve_api(
                    name, request, path[len(mount) :] or "/", start_response, prefix_store
                )
        return json_response({"error": "Not Found", "message": "unknown path"}, 404)(
            environ, start_response
        )

    def _split_domain_prefix(self, path: str) -> tuple[int | None, str]:
        """`/store-k/api/...` → (k, `/api/...`) for a store that exists; else (None, path)."""
        head, slash, rest = path[1:].partition("/")
        number = store_of_prefix(head) if slash else None
        if number is None or number > self.stores.count or not rest.startswith("api/"):
            return None, path
        return number, "/" + rest

    def _serve_api(
        self,
        name: str,
        request: Request,
        path: str,
        start_response: StartResponse,
        prefix_store: int | None,
    ) -> Iterable[bytes]:
        number, refusal = self._store_for_token(request, name, prefix_store)
        store = self.stores.get(number or 1)
        api: ApiSimulation = store.apis[name]
        faults = store.faults
        store.count_request(name)
        if faults.latency_seconds > 0:
            time.sleep(faults.latency_seconds)
        if faults.should("reset"):
            _reset_connection(request.environ)
        if number is None:
            response = api.error_response(401, refusal)
        elif faults.should("rate_limit"):
            response = api.error_response(429, "rate_limited")
        elif faults.should("error"):
            response = api.error_response(500, "server_error")
        else:
            response = api.handle(request, path, faults)
            if response.status_code == 200 and faults.should("malformed"):
                response = json_response(faults.malformed_body())
        if faults.should("truncate"):
            return _truncated(response, request.environ, start_response)
        return response(request.environ, start_response)

    def _store_for_token(
        self, request: Request, api: str, prefix_store: int | None
    ) -> tuple[int | None, str]:
        """The store the bearer token opens on `api` (and on the URL's domain prefix, if
        any), or None with the kind of 401 to answer."""
        scheme, _, raw = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer":
            return None, "unauthorized"
        token = raw.strip()
        number = personal_token_store(token, self.config.token, self.stores.count)
        refusal = "unauthorized"
        if number is None:
            check = self.oauth_authority.check_access(token)
            if check is not None and check.vendor == api:
                if check.status is AccessStatus.VALID:
                    number = check.store
                else:
                    refusal = f"token_{check.status.value}"
        if number is not None and prefix_store is not None and number != prefix_store:
            return None, "unauthorized"
        return number, refusal


def personal_token_store(token: str, base: str, stores: int) -> int | None:
    """`base` opens store 1 and `base-k` store k (1..stores); anything else None."""
    encoded, expected = token.encode(), base.encode()
    if hmac.compare_digest(encoded, expected):
        return 1
    head, dash, digits = token.rpartition("-")
    if not dash or not digits.isdigit() or digits.startswith("0"):
        return None
    if hmac.compare_digest(head.encode(), expected) and 1 <= int(digits) <= stores:
        return int(digits)
    return None


def _reset_connection(environ: dict[str, Any]) -> None:
    """Close the client's TCP connection with RST instead of answering.

    SO_LINGER 0 makes the close send RST; raising ConnectionResetError makes werkzeug's
    handler treat the connection as dropped and close the socket without writing anything.
    """
    sock = environ.get("werkzeug.socket")
    if isinstance(sock, socket.socket):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    environ[RESET_MARKER] = True
    raise ConnectionResetError("simulated connection reset")


def _truncated(
    response: Response, environ: dict[str, Any], start_response: StartResponse
) -> Iterable[bytes]:
    """Declare the full Content-Length, send only half the body, then let the server close."""
    body = response.get_data()
    headers = [(k, v) for k, v in response.headers.items() if k.lower() != "content-length"]
    headers.append(("Content-Length", str(len(body))))
    start_response(response.status, headers)
    return [body[: len(body) // 2]]
