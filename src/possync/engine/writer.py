"""Writing a run's pages in order while the engine validates the next, by one writer chosen
when the run starts (no hand-over in the middle of a run):

- `ThreadWriter`: a background thread over the engine's own connection. Incremental runs
  (a few pages, often none) take it: nothing to start.
- `ProcessWriter` (see `writer_process`): a second process with its own connection, so
  validation and PostgreSQL writes use two cores. Bulk runs take it: a historical import
  (no stored cursor yet), `--full` and a backfill; one process serves every such run of a
  sync, started with the first page it gets.

Each submitted page runs to completion (its own transaction) before the next starts. A
failed page stops the writer: the error is raised by the next `submit` or by `finish`.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Any, Protocol

import psycopg

from possync.db.connection import Database
from possync.db.state import RunCounters
from possync.engine.page_commit import PageCommitter, PageJob, WalkTarget, WrittenTotals
from possync.engine.writer_process import ProcessWriter

OnCommit = Callable[[RunCounters], None]
# A process connects in milliseconds; past this (a server too busy to accept it) the run
# writes from the engine's connection instead.
CONNECT_WAIT_SECONDS = 30.0
logger = logging.getLogger(__name__)


class PageWriter(Protocol):
    """What the walk hands its pages to."""

    def submit(self, job: PageJob) -> None:
        """Queue a page; raises an earlier page's error."""

    def finish(self) -> WrittenTotals:
        """Wait for every queued page; raise a page's error; the run's totals."""


class ThreadWriter:
    """Writes pages on a background thread over the engine's connection."""

    def __init__(self, committer: PageCommitter, on_commit: OnCommit) -> None:
        self._committer = committer
        self._on_commit = on_commit
        self._queue: queue.Queue[PageJob | None] = queue.Queue(maxsize=1)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="possync-writer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            if self._error is not None:
                continue  # drain without writing: an earlier page failed
            try:
                self._on_commit(self._committer.commit(job))
            except BaseException as exc:  # handed to the submitting thread
                self._error = exc

    def submit(self, job: PageJob) -> None:
        """Queue a page (blocks while the previous one is still queued)."""
        self._raise_if_failed()
        self._queue.put(job)

    def finish(self) -> WrittenTotals:
        self._queue.put(None)
        self._thread.join()
        self._raise_if_failed()
        return self._committer.totals

    def _raise_if_failed(self) -> None:
        if self._error is not None:
            raise self._error


class _ProcessRun:
    """One run on the sync's writer process; the process starts with the run's first page, so
    a run with nothing to write never starts one. A process that cannot connect (the role's
    or the server's connection limit reached) leaves the run to a thread on the engine's
    connection, with a warning, for the rest of the sync."""

    def __init__(
        self,
        writers: Writers,
        conn: psycopg.Connection[Any],
        target: WalkTarget,
        quarantine_in_use: bool,
        on_commit: OnCommit,
    ) -> None:
        self._writers = writers
        self._conn = conn
        self._begin = (target, quarantine_in_use, on_commit)
        self._writer: PageWriter | None = None

    def submit(self, job: PageJob) -> None:
        if self._writer is None:
            self._writer = self._start()
        self._writer.submit(job)

    def _start(self) -> PageWriter:
        target, quarantine_in_use, on_commit = self._begin
        process = self._writers.process()
        refused = process.connect_failure(CONNECT_WAIT_SECONDS)
        if refused is None:
            process.begin_run(target, quarantine_in_use, on_commit)
            return process
        reason = str(refused).strip().splitlines()[0] if str(refused).strip() else "no reason"
        logger.warning(
            "the writer process could not connect to PostgreSQL (%s): this sync writes its "
            "pages from its own connection instead",
            reason,
        )
        self._writers.give_up_process()
        committer = PageCommitter(self._conn, target, quarantine_in_use=quarantine_in_use)
        return ThreadWriter(committer, on_commit)

    def finish(self) -> WrittenTotals:
        return WrittenTotals() if self._writer is None else self._writer.finish()


class Writers:
    """Chooses each run's writer when it starts, and owns the sync's writer process."""

    def __init__(self, db: Database, *, use_process: bool) -> None:
        self._db = db
        self._use_process = use_process
        self._process: ProcessWriter | None = None

    def open(
        self,
        conn: psycopg.Connection[Any],
        target: WalkTarget,
        *,
        quarantine_in_use: bool,
        bulk: bool,
        on_commit: OnCommit,
    ) -> PageWriter:
        """The run's writer: the writer process for a bulk run (unless turned off), else a
        thread over `conn`."""
        if bulk and self._use_process:
            return _ProcessRun(self, conn, target, quarantine_in_use, on_commit)
        committer = PageCommitter(conn, target, quarantine_in_use=quarantine_in_use)
        return ThreadWriter(committer, on_commit)

    def process(self) -> ProcessWriter:
        """The sync's writer process; a new one if there is none or the last one failed."""
        if self._process is not None and not self._process.usable:
            self._process.close()
            self._process = None
        if self._process is None:
            self._process = ProcessWriter(self._db)
        return self._process

    def give_up_process(self) -> None:
        """The writer process could not connect: the sync's later runs use threads."""
        self._use_process = False
        self.close()

    def close(self) -> None:
        if self._process is not None:
            self._process.close()
            self._process = None
