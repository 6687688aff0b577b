"""A real HTTP server on 127.0.0.1 that answers 200 with its headers at once, then drips the
body one byte at a time: each read arrives well within any read timeout, so only a total
deadline ends the request. It stops dripping (and closes) after `give_up_after` seconds, so a
client without a deadline fails a test slowly instead of hanging it."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress

HEADERS = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n"


class DrippingServer:
    def __init__(self, interval: float, give_up_after: float) -> None:
        self.interval = interval
        self.give_up_after = give_up_after
        self.connections = 0
        self._stop = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._threads: list[threading.Thread] = []
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"

    def start(self) -> None:
        thread = threading.Thread(target=self._accept, daemon=True)
        thread.start()
        self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)
        self._listener.close()

    def _accept(self) -> None:
        self._listener.settimeout(0.1)  # so that `stop` is noticed
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(None)
            self.connections += 1
            thread = threading.Thread(target=self._drip, args=(conn,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _drip(self, conn: socket.socket) -> None:
        with conn, suppress(OSError):
            request = b""
            while b"\r\n\r\n" not in request:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                request += chunk
            conn.sendall(HEADERS)
            ends = time.monotonic() + self.give_up_after
            conn.sendall(b"{")
            while time.monotonic() < ends and not self._stop.wait(self.interval):
                conn.sendall(b" ")


@contextmanager
def dripping_server(interval: float = 0.3, give_up_after: float = 12.0) -> Iterator[DrippingServer]:
    server = DrippingServer(interval, give_up_after)
    server.start()
    try:
        yield server
    finally:
        server.stop()
