"""A small Lightspeed-shaped API on 127.0.0.1 that answers exactly the bytes a test gives it.

It also takes alerts: apprise's `json://127.0.0.1:PORT/alerts` posts land in `posts`.
Pages are keyed by (path, `after`): a version walk asks `after=0` first, then the page's
highest version, where the stub answers an empty page unless told otherwise.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

EMPTY_PAGE = b'{"data": []}'


@dataclass
class StubPos:
    url: str = ""
    pages: dict[tuple[str, str], bytes] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)
    posts: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # alerts (json://)

    def answer(self, path: str, after: int | str, body: bytes) -> None:
        self.pages[(path, str(after))] = body


@contextmanager
def running_stub_pos() -> Iterator[StubPos]:
    stub = StubPos()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            after = parse_qs(parts.query).get("after", ["0"])[0]
            stub.requests.append((parts.path, after))
            body = stub.pages.get((parts.path, after), EMPTY_PAGE)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            stub.posts.append((self.path, json.loads(self.rfile.read(length))))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    stub.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield stub
    finally:
        server.shutdown()
        server.server_close()
