"""Serving the simulator over HTTP: a background thread for tests, `serve_forever` for the CLI."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from possync.simulator.app import LIGHTSPEED_MOUNT, RESET_MARKER, Simulator
from possync.simulator.config import SimulatorConfig

LOOPBACK = "127.0.0.1"


class _QuietRequestHandler(WSGIRequestHandler):
    """No per-request log line (a page walk makes thousands of requests); `Date` from the app."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None

    def log_error(self, format: str, *args: Any) -> None:
        return None

    def send_response(self, code: int, message: str | None = None) -> None:
        # As http.server does, minus its wall-clock `Date`: the app sends the simulated one.
        self.log_request(code)
        self.send_response_only(code, message)
        self.send_header("Server", self.version_string())

    def connection_dropped(
        self, error: BaseException, environ: dict[str, Any] | None = None
    ) -> None:
        # A simulated reset (see app._reset_connection) closes now, so the client sees RST
        # rather than a FIN, and never waits for another response on this connection.
        self.close_connection = True
        if environ is not None and environ.get(RESET_MARKER):
            self.connection.close()


def build_server(simulator: Simulator, host: str = LOOPBACK, port: int = 0) -> BaseWSGIServer:
    """A threaded werkzeug server (one thread per connection) bound to host:port."""
    return make_server(host, port, simulator, threaded=True, request_handler=_QuietRequestHandler)


class RunningSimulator:
    """A simulator served in a background thread; `stop()` (or leaving the `with`) ends it."""

    def __init__(self, simulator: Simulator, server: BaseWSGIServer) -> None:
        self.simulator = simulator
        self._server = server
        self.host = LOOPBACK if server.host in ("", "0.0.0.0") else server.host
        self.port = server.port
        self._thread = threading.Thread(
            target=server.serve_forever, name=f"possync-simulator-{self.port}", daemon=True
        )
        self._thread.start()
        self._stopped = False

    @property
    def base_url(self) -> str:
        """e.g. http://127.0.0.1:54321"""
        return f"http://{self.host}:{self.port}"

    @property
    def lightspeed_url(self) -> str:
        """The Lightspeed API base, e.g. http://127.0.0.1:54321/api/2.0"""
        return self.base_url + LIGHTSPEED_MOUNT

    @property
    def square_url(self) -> str:
        """The Square API base: the host root (Square paths start with /v2/)."""
        return self.base_url

    @property
    def token(self) -> str:
        """The bearer token both APIs accept."""
        return self.simulator.config.token

    def stop(self) -> None:
        """Stop serving and release the port (idempotent)."""
        if self._stopped:
            return
        self._stopped = True
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)


@contextmanager
def running_simulator(
    config: SimulatorConfig | None = None, *, port: int = 0
) -> Iterator[RunningSimulator]:
    """Serve a new simulator on 127.0.0.1 (a free port unless given) for the `with` block."""
    simulator = Simulator(config or SimulatorConfig())
    running = RunningSimulator(simulator, build_server(simulator, LOOPBACK, port))
    try:
        yield running
    finally:
        running.stop()


def serve_forever(
    config: SimulatorConfig,
    host: str,
    port: int,
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Build the simulator and serve it in this thread until interrupted.

    `on_ready` gets the base URL (e.g. http://127.0.0.1:8765) once the port is bound.
    """
    server = build_server(Simulator(config), host, port)
    if on_ready is not None:
        on_ready(f"http://{host}:{server.port}")
    try:
        server.serve_forever()
    finally:
        server.server_close()
