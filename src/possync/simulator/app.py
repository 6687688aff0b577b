"""The simulator's WSGI app: both POS APIs behind one host, plus control endpoints.

Lightspeed X-Series is mounted at ``/api/2.0/`` and Square at ``/v2/``. This layer checks the
bearer token and injects the transport-level faults (latency, 5xx, 429 bursts, connection
resets, truncated bodies); the API modules decide the API-level ones (short pages, expired
cursors, Lightspeed's own rate limit). Control endpoints under ``/_simulator/`` need no token.
"""

from __future__ import annotations

import hmac
import importlib
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any, Protocol, cast

import orjson
from werkzeug.http import http_date
from werkzeug.wrappers import Request, Response

from possync.simulator.clock import SimClock
from possync.simulator.config import SimulatorConfig
from possync.simulator.faults import FaultConfig, FaultInjector

LIGHTSPEED_MOUNT = "/api/2.0"
SQUARE_MOUNT = "/v2"
CONTROL_PREFIX = "/_simulator"
RESET_MARKER = "possync.simulator.reset"

StartResponse = Callable[..., Any]


class ApiSimulation(Protocol):
    """One simulated POS API (see .team/SIMULATOR.md)."""

    def handle(self, request: Request, path: str, faults: FaultInjector) -> Response:
        """Answer a request; `path` is relative to the mount (e.g. "/sales")."""
        ...

    def error_response(self, status: int, kind: str) -> Response:
        """The API's own error body for kind unauthorized/server_error/rate_limited/not_found."""
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


def _json_response(body: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status=status, mimetype="application/json")


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
    """The WSGI application. Also the Python handle: `advance`, `truth`, `set_faults`."""

    def __init__(self, config: SimulatorConfig | None = None) -> None:
        self.config = config or SimulatorConfig()
        self.clock = SimClock()
        self.faults = FaultInjector(self.config.faults)
        self.apis: dict[str, ApiSimulation] = {}
        self._stats_lock = threading.Lock()
        self._requests: dict[str, int] = {}
        if self.config.lightspeed:
            from possync.simulator.lightspeed import LightspeedStore

            self.apis["lightspeed"] = LightspeedStore(
                self.config.seed,
                self.config.scale,
                self.clock,
                rate_limit=self.config.rate_limit,
                rate_limit_window_seconds=self.config.rate_limit_window_seconds,
            )
        if self.config.square:
            square_factory = _load_square_factory()
            if square_factory is not None:
                self.apis["square"] = square_factory(
                    self.config.seed, self.config.scale, self.clock
                )
        self._mounts = [
            (mount, name)
            for mount, name in ((LIGHTSPEED_MOUNT, "lightspeed"), (SQUARE_MOUNT, "square"))
            if name in self.apis
        ]

    # --- Python control surface ---

    def advance(self, minutes: int) -> dict[str, Any]:
        """Move simulated time forward; every store makes its changes. Counts per API."""
        if minutes < 0:
            raise ValueError("minutes must not be negative")
        self.clock.advance(minutes)
        changes: dict[str, Any] = {name: api.advance(minutes) for name, api in self.apis.items()}
        changes["clock"] = self.clock.now().isoformat()
        return changes

    def truth(self) -> dict[str, Any]:
        """Ground truth of every mounted API: `{"lightspeed": {...}, "square": {...}}`."""
        return {name: api.truth() for name, api in self.apis.items()}

    def set_faults(self, config: FaultConfig) -> None:
        """Replace the fault configuration at run time."""
        self.faults.configure(config)

    def corrupt(self, api: str, entity: str, count: int) -> list[str]:
        """Make `count` existing records malformed in their next served version."""
        target = self.apis.get(api)
        if target is None or not hasattr(target, "corrupt"):
            raise ValueError(f"the {api} simulator cannot corrupt records")
        return cast(SupportsCorruption, target).corrupt(entity, count)

    def stats(self) -> dict[str, int]:
        """Requests served per API."""
        with self._stats_lock:
            return dict(self._requests)

    # --- WSGI ---

    def __call__(self, environ: dict[str, Any], answer: StartResponse) -> Iterable[bytes]:
        def start_response(status: str, headers: list[tuple[str, str]], *exc_info: Any) -> Any:
            # The POS's clock is the simulated one: `Date` agrees with the records, as live.
            return answer(status, [*headers, ("Date", http_date(self.clock.now()))], *exc_info)

        request = Request(environ)
        path = request.path
        if path.startswith(CONTROL_PREFIX + "/"):
            return self._control(request, path[len(CONTROL_PREFIX) :])(environ, start_response)
        for mount, name in self._mounts:
            if path == mount or path.startswith(mount + "/"):
                return self._serve_api(name, request, path[len(mount) :] or "/", start_response)
        return _json_response({"error": "Not Found", "message": "unknown path"}, 404)(
            environ, start_response
        )

    def _serve_api(
        self, name: str, request: Request, path: str, start_response: StartResponse
    ) -> Iterable[bytes]:
        api = self.apis[name]
        with self._stats_lock:
            self._requests[name] = self._requests.get(name, 0) + 1
        if self.faults.latency_seconds > 0:
            time.sleep(self.faults.latency_seconds)
        if self.faults.should("reset"):
            _reset_connection(request.environ)
        if not self._authorized(request):
            response = api.error_response(401, "unauthorized")
        elif self.faults.should("rate_limit"):
            response = api.error_response(429, "rate_limited")
        elif self.faults.should("error"):
            response = api.error_response(500, "server_error")
        else:
            response = api.handle(request, path, self.faults)
            if response.status_code == 200 and self.faults.should("malformed"):
                response = _json_response(self.faults.malformed_body())
        if self.faults.should("truncate"):
            return _truncated(response, request.environ, start_response)
        return response(request.environ, start_response)

    def _authorized(self, request: Request) -> bool:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        expected = self.config.token.encode()
        return scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(), expected)

    def _control(self, request: Request, path: str) -> Response:
        try:
            return self._control_action(request, path)
        except (ValueError, TypeError, orjson.JSONDecodeError) as exc:
            return _json_response({"error": "Bad Request", "message": str(exc)}, 400)

    def _control_action(self, request: Request, path: str) -> Response:
        method = request.method
        if path == "/advance" and method == "POST":
            body = _json_body(request)
            minutes = body.get("minutes")
            if not isinstance(minutes, int) or isinstance(minutes, bool):
                raise ValueError('send {"minutes": N} with a whole number N >= 0')
            return _json_response(self.advance(minutes))
        if path == "/truth" and method == "GET":
            return _json_response(self.truth())
        if path == "/faults" and method == "POST":
            self.set_faults(FaultConfig.from_dict(_json_body(request)))
            return _json_response(self.faults.snapshot())
        if path == "/faults" and method == "GET":
            return _json_response(self.faults.snapshot())
        if path == "/stats" and method == "GET":
            return _json_response({"requests": self.stats(), "clock": self.clock.now().isoformat()})
        if path == "/corrupt" and method == "POST":
            body = _json_body(request)
            count = body.get("count", 1)
            if not isinstance(count, int) or count < 0:
                raise ValueError("count must be a whole number >= 0")
            ids = self.corrupt(str(body.get("api", "lightspeed")), str(body.get("entity")), count)
            return _json_response({"corrupted": ids})
        return _json_response({"error": "Not Found", "message": "unknown control endpoint"}, 404)


def _json_body(request: Request) -> dict[str, Any]:
    data = request.get_data()
    body = orjson.loads(data) if data.strip() else {}
    if not isinstance(body, dict):
        raise ValueError("send a JSON object")
    return body


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
