"""Write pages on a background thread, in order, so PostgreSQL works on page N while Python
validates page N+1 (psycopg releases the GIL while it waits on the server).

Each submitted job runs to completion (its own transaction) before the next starts. A failed
job stops the writer: the error is raised by the next `submit` or by `finish`.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")
_STOP = object()


class OrderedWriter(Generic[T]):
    def __init__(self, write: Callable[[T], None], depth: int = 1) -> None:
        self._write = write
        self._queue: queue.Queue[object] = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="possync-writer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            job = self._queue.get()
            if job is _STOP:
                return
            if self._error is not None:
                continue  # drain without writing: an earlier page failed
            try:
                self._write(job)  # type: ignore[arg-type]
            except BaseException as exc:  # handed to the submitting thread
                self._error = exc

    def submit(self, job: T) -> None:
        """Queue a job (blocks while the previous one is still queued)."""
        self.raise_if_failed()
        self._queue.put(job)

    def raise_if_failed(self) -> None:
        if self._error is not None:
            raise self._error

    def finish(self) -> None:
        """Wait for every queued job; raise the writer's error, if any."""
        self._queue.put(_STOP)
        self._thread.join()
        self.raise_if_failed()
