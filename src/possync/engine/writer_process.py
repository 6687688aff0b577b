"""Writing pages from a separate process, so that validating (Python) and writing (psycopg
waiting on PostgreSQL) use two cores instead of taking turns on one interpreter lock.

In one process the writer thread needs the lock back after every round trip to PostgreSQL
while validation holds it; measured on a 192,114-row import the thread writer spent 6.6 s on
what takes 3.9 s alone. A writer process has its own interpreter and its own connection.

The engine starts one when a run reaches its second page (a one-page run never pays for it),
keeps writing on its thread until the process says it is ready, then hands over: the thread
finishes its page, and every later page goes to the process, in order. Each page is still
one transaction holding its rows, cursor and counters (`page_commit`). The process dies with
the engine (PR_SET_PDEATHSIG on Linux; on EOF elsewhere), so a killed sync leaves no writer
behind, and a failed page stops it: its error is raised in the engine as if raised there.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection

from possync.db.connection import Database
from possync.db.state import RunCounters
from possync.engine.page_commit import PageCommitter, PageJob, WalkTarget, WrittenTotals
from possync.errors import PossyncError

log = logging.getLogger(__name__)

PR_SET_PDEATHSIG = 1


class WriterProcessError(PossyncError):
    """The writer process ended while pages were still to be written."""


def _ended(code: int | None) -> WriterProcessError:
    """Why the writer process ended, in one line: a signal is named (SIGKILL is what the
    out-of-memory killer sends)."""
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        hint = " (out of memory?)" if name == "SIGKILL" else ""
        how = f"was killed by {name}{hint}"
    else:
        how = f"ended unexpectedly (exit code {code})"
    return WriterProcessError(
        f"the writer process {how}: the page it was writing rolled back; rerun to resume"
    )


# Pages queued for the process beyond the one it writes: validation runs ahead by this much.
QUEUE_DEPTH = 2
STOP_TIMEOUT_SECONDS = 120.0


class ProcessWriter:
    """One run's writer process. `submit` pages once `ready()`; `finish` waits for them all."""

    def __init__(
        self, db: Database, target: WalkTarget, on_commit: Callable[[RunCounters], None]
    ) -> None:
        jobs_in, jobs_out = os.pipe()
        acks_in, acks_out = os.pipe()
        # Its own interpreter (not multiprocessing's spawn, which would import the caller's
        # main module again); the database URL goes through the pipe, never on a command line.
        self._process = subprocess.Popen(
            [sys.executable, "-m", "possync.engine.writer_process", str(jobs_in), str(acks_out)],
            pass_fds=(jobs_in, acks_out),
            stdin=subprocess.DEVNULL,
        )
        os.close(jobs_in)
        os.close(acks_out)
        self._jobs = Connection(jobs_out, readable=False)
        self._acks = Connection(acks_in, writable=False)
        self._on_commit = on_commit
        self._ready = threading.Event()
        self._slots = threading.Semaphore(QUEUE_DEPTH + 1)
        self._error: BaseException | None = None
        self._started = False
        self.totals = WrittenTotals()
        self._jobs.send((db, target, os.getpid(), _log_level()))
        self._reader = threading.Thread(target=self._read_acks, name="possync-acks", daemon=True)
        self._reader.start()

    def ready(self) -> bool:
        """Whether the process is up and connected (never blocks)."""
        return self._ready.is_set() and self._error is None

    def start(self, quarantine_in_use: bool, totals: WrittenTotals) -> None:
        """Take over from the thread writer, which wrote the run's pages so far."""
        self.totals = totals
        self._send(("start", quarantine_in_use, totals))
        self._started = True

    def submit(self, job: PageJob) -> None:
        """Queue a page (blocks while QUEUE_DEPTH pages wait)."""
        self.raise_if_failed()
        while not self._slots.acquire(timeout=0.5):
            self.raise_if_failed()
            if self._process.poll() is not None:
                raise _ended(self._process.returncode)
        self._send(job)

    def raise_if_failed(self) -> None:
        if self._error is not None:
            raise self._error

    def finish(self) -> None:
        """Wait for every queued page, stop the process; raise a page's error, if any."""
        if not self._started:  # it never wrote a page: no need to wait for it to come up
            self._process.kill()
        with contextlib.suppress(OSError, EOFError):
            self._jobs.send(None)
        self._reader.join(STOP_TIMEOUT_SECONDS)
        try:
            self._process.wait(STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._jobs.close()
        if self._started:
            self.raise_if_failed()

    def _send(self, message: object) -> None:
        try:
            self._jobs.send(message)
        except (BrokenPipeError, EOFError, ConnectionResetError):
            self._reader.join(STOP_TIMEOUT_SECONDS)  # its error says why
            self.raise_if_failed()
            raise _ended(self._process.poll()) from None

    def _read_acks(self) -> None:
        try:
            while True:
                message = self._acks.recv()
                kind = message[0]
                if kind == "ready":
                    self._ready.set()
                elif kind == "committed":
                    self._slots.release()
                    self._on_commit(message[1])
                elif kind == "finished":
                    self.totals = message[1]
                    return
                elif kind == "failed":
                    self._error = message[1]
                    if not self._started:  # the thread writer simply goes on
                        log.info("no writer process (%s): pages stay on a thread", self._error)
                    return
        except EOFError:
            if self._started and self._error is None:
                self._error = _ended(self._process.wait())
        except BaseException as exc:  # the progress callback failed: stop like a page would
            self._error = exc
        finally:
            self._acks.close()
            for _ in range(QUEUE_DEPTH + 1):
                self._slots.release()  # unblock a waiting submit: it raises the error


def main(argv: list[str]) -> None:
    """The writer process (`python -m possync.engine.writer_process JOBS_FD ACKS_FD`): take the run
    from the first message, connect, then commit pages in the order they arrive."""
    jobs = Connection(int(argv[0]), writable=False)
    acks = Connection(int(argv[1]), readable=False)
    # Whatever happens, no traceback: the engine reports a failure, in one line.
    with contextlib.suppress(BaseException):
        db, target, engine_pid, log_level = jobs.recv()
        _die_with(engine_pid)
        _configure_logging(log_level)
        _serve(db, target, jobs, acks)


def _serve(db: Database, target: WalkTarget, jobs: Connection, acks: Connection) -> None:
    try:
        conn = db.connect()
    except BaseException as exc:
        acks.send(("failed", _picklable(exc)))
        return
    try:
        acks.send(("ready",))
        inbox = _Inbox(jobs)
        committer: PageCommitter | None = None
        while True:
            message = inbox.get()
            if message is _GONE:
                return  # the engine is gone: what is committed stays, the rest rolls back
            if message is None:
                acks.send(("finished", committer.totals if committer else WrittenTotals()))
                return
            if isinstance(message, tuple) and message[0] == "start":
                _, quarantine_in_use, totals = message
                committer = PageCommitter(
                    conn, target, quarantine_in_use=quarantine_in_use, totals=totals
                )
                continue
            try:
                if committer is None or not isinstance(message, PageJob):
                    raise RuntimeError(f"writer process: unexpected {type(message).__name__}")
                counters = committer.commit(message)
            except BaseException as exc:
                acks.send(("failed", _picklable(exc)))
                return
            acks.send(("committed", counters))
    finally:
        conn.close()  # an unfinished page's transaction rolls back


_GONE = object()


class _Inbox:
    """Receives pages as soon as they are sent (a thread), so the engine's `send` returns
    while this process still writes the page before: the engine validates on meanwhile.
    The engine bounds how many are in flight."""

    def __init__(self, jobs: Connection) -> None:
        self._jobs = jobs
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        threading.Thread(target=self._receive, name="possync-inbox", daemon=True).start()

    def _receive(self) -> None:
        try:
            while True:
                message = self._jobs.recv()
                self._queue.put(message)
                if message is None:
                    return
        except BaseException:  # EOF: the engine is gone
            self._queue.put(_GONE)

    def get(self) -> object:
        return self._queue.get()


def _die_with(engine_pid: int) -> None:
    """Make the kernel kill this process when the engine dies (Linux), and leave at once if
    it already has."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != engine_pid:
        os._exit(0)


def _log_level() -> int:
    return logging.getLogger().getEffectiveLevel()


def _configure_logging(level: int) -> None:
    """As the CLI does: psycopg's warnings only with --debug (possync reports failures)."""
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("psycopg").setLevel(
        logging.NOTSET if level <= logging.DEBUG else logging.ERROR
    )


def _picklable(exc: BaseException) -> BaseException:
    import pickle

    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        return RuntimeError(f"{type(exc).__name__}: {exc}")
    return exc


if __name__ == "__main__":
    main(sys.argv[1:])
