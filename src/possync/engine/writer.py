"""Write pages in order while the engine validates the next: on a background thread
(`OrderedWriter`), and for a run longer than a page in a writer process (`PageWriter`, see
`writer_process`), which keeps PostgreSQL round trips from waiting on the interpreter lock.

Each submitted job runs to completion (its own transaction) before the next starts. A failed
job stops the writer: the error is raised by the next `submit` or by `finish`.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

from possync.db.connection import Database
from possync.db.state import RunCounters
from possync.engine.page_commit import PageCommitter, PageJob, WrittenTotals
from possync.engine.writer_process import ProcessWriter

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


class PageWriter:
    """Writes a run's pages in order: on a thread over the engine's connection, handing over
    to a writer process (see `writer_process`) once the run reaches its second page and the
    process is ready."""

    def __init__(
        self,
        committer: PageCommitter,
        db: Database,
        report: Callable[[RunCounters], None],
        *,
        use_process: bool,
    ) -> None:
        self._committer = committer
        self._db = db
        self._report = report
        self._use_process = use_process
        self._thread: OrderedWriter[PageJob] | None = OrderedWriter[PageJob](self._write_here)
        self._process: ProcessWriter | None = None
        self._submitted = 0

    @property
    def totals(self) -> WrittenTotals:
        if self._process is not None and self._thread is None:
            return self._process.totals
        return self._committer.totals

    def _write_here(self, job: PageJob) -> None:
        self._report(self._committer.commit(job))

    def submit(self, job: PageJob) -> None:
        self._submitted += 1
        if self._use_process and self._submitted == 2 and self._process is None:
            self._process = ProcessWriter(self._db, self._committer.target, self._report)
        if self._thread is not None and self._process is not None and self._process.ready():
            self._thread.finish()  # its pages are committed: the process goes on from there
            self._thread = None
            committer = self._committer
            self._process.start(committer.quarantine_in_use, committer.totals)
        if self._thread is not None:
            self._thread.submit(job)
        else:
            assert self._process is not None
            self._process.submit(job.for_transfer())

    def finish(self) -> None:
        try:
            if self._thread is not None:
                self._thread.finish()
        finally:
            if self._process is not None:
                self._process.finish()
