"""Writing pages from a separate process, so that validating (Python) and writing (psycopg
waiting on PostgreSQL) use two cores instead of taking turns on one interpreter lock.

In one process a writer thread needs the lock back after every round trip to PostgreSQL
while validation holds it; measured on a 192,114-row import the thread writer spent 6.6 s on
what takes 3.9 s alone. A writer process has its own interpreter and its own connection.

The engine chooses it when an entity's run starts (see `writer.Writers.open`) and keeps one
process for the whole sync: it starts with the first page to write and serves each entity
run in turn (`BeginRun`, its pages, `EndRun`). Each page is still one transaction holding its
rows, cursor and counters (`page_commit`), committed in the order sent. The process dies with
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
from possync.engine.writer_messages import (
    BeginRun,
    Committed,
    Connect,
    EndRun,
    Failed,
    FromWriter,
    Ready,
    RunEnded,
    Stop,
    ToWriter,
    WritePage,
)
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
POLL_SECONDS = 0.5


class ProcessWriter:
    """A sync's writer process: `begin_run`, `submit` the run's pages, `finish` it (its
    totals), and again for the next entity; `close` at the end of the sync. After a failure
    it is spent (`usable` is false): the error is raised by the next `submit` or `finish`."""

    def __init__(self, db: Database) -> None:
        jobs_in, jobs_out = os.pipe()
        acks_in, acks_out = os.pipe()
        # Its own interpreter (not multiprocessing's spawn, which would import the caller's
        # main module again); the database URL goes through the pipe, never on a command line.
        self._process = subprocess.Popen(
            [sys.executable, "-m", "possync.engine.writer_process", str(jobs_in), str(acks_out)],
            pass_fds=(jobs_in, acks_out),
            stdin=subprocess.DEVNULL,
            # Out of the terminal's process group: Ctrl-C is the engine's to handle (it stops
            # the writer through the pipe), not a traceback from a process still starting.
            start_new_session=True,
        )
        os.close(jobs_in)
        os.close(acks_out)
        self._jobs = Connection(jobs_out, readable=False)
        self._acks = Connection(acks_in, writable=False)
        self._on_commit: Callable[[RunCounters], None] = lambda _counters: None
        self._slots = threading.Semaphore(QUEUE_DEPTH + 1)
        self._run_ends: queue.SimpleQueue[WrittenTotals | None] = queue.SimpleQueue()
        self._error: BaseException | None = None
        self._answered = threading.Event()  # Ready, or a failure (to connect, or later)
        self._connected = False
        self._outbox: queue.SimpleQueue[ToWriter | None] = queue.SimpleQueue()
        self._send(Connect(db, os.getpid(), _log_level()))
        self._sender = threading.Thread(target=self._send_all, name="possync-pages", daemon=True)
        self._sender.start()
        self._reader = threading.Thread(target=self._read_acks, name="possync-acks", daemon=True)
        self._reader.start()

    @property
    def usable(self) -> bool:
        return self._error is None and self._process.poll() is None

    def connect_failure(self, timeout: float) -> BaseException | None:
        """Wait until the process has connected; why it could not, or None once it has."""
        if not self._answered.wait(timeout):
            return WriterProcessError(f"the writer process did not connect within {timeout:g} s")
        return None if self._connected else (self._error or _ended(self._process.poll()))

    def begin_run(
        self, target: WalkTarget, quarantine_in_use: bool, on_commit: Callable[[RunCounters], None]
    ) -> None:
        """The next pages are this run's; `on_commit` hears each one's committed counters."""
        self.raise_if_failed()
        self._on_commit = on_commit
        self._send(BeginRun(target, quarantine_in_use))

    def submit(self, job: PageJob) -> None:
        """Queue a page (blocks while QUEUE_DEPTH pages wait)."""
        self.raise_if_failed()
        while not self._slots.acquire(timeout=POLL_SECONDS):
            self._raise_if_gone()
        self._send(WritePage(job))

    def finish(self) -> WrittenTotals:
        """Wait for the run's pages; raise a page's error, if any; the run's totals."""
        self._send(EndRun())
        while True:
            try:
                totals = self._run_ends.get(timeout=POLL_SECONDS)
            except queue.Empty:
                self._raise_if_gone()
                continue
            if totals is None:  # the reader stopped: the process failed or ended
                self._raise_if_gone()
                raise _ended(self._process.poll())
            return totals

    def close(self) -> None:
        """Stop the process (after what it was given) and wait for it."""
        self._send(Stop())
        self._outbox.put(None)
        self._sender.join(STOP_TIMEOUT_SECONDS)
        self._reader.join(STOP_TIMEOUT_SECONDS)
        try:
            self._process.wait(STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._jobs.close()

    def raise_if_failed(self) -> None:
        if self._error is not None:
            raise self._error

    def _raise_if_gone(self) -> None:
        self.raise_if_failed()
        if self._process.poll() is not None:
            self._reader.join(STOP_TIMEOUT_SECONDS)  # its last message may say why
            self.raise_if_failed()
            raise _ended(self._process.returncode)

    def _send(self, message: ToWriter) -> None:
        self._outbox.put(message)

    def _send_all(self) -> None:
        """Sends on its own thread: a page waiting in the pipe for a process still starting
        (or still writing the page before) never holds up validation. The slots bound how
        many pages wait."""
        while (message := self._outbox.get()) is not None:
            try:
                self._jobs.send(message)
            except OSError:  # the process is gone: the reader says why
                return
            except BaseException as exc:  # a message that cannot be pickled (a bug)
                self._error = exc
                self._process.kill()
                return

    def _read_acks(self) -> None:
        try:
            while True:
                message: FromWriter = self._acks.recv()
                match message:
                    case Ready():
                        self._connected = True
                        self._answered.set()
                    case Committed(counters):
                        self._slots.release()
                        self._on_commit(counters)
                    case RunEnded(totals):
                        self._run_ends.put(totals)
                    case Failed(error):
                        self._error = error
                        return
        except EOFError:
            if self._error is None:
                self._error = _ended(self._process.wait())
        except BaseException as exc:  # the progress callback failed: stop like a page would
            self._error = exc
        finally:
            self._answered.set()
            self._acks.close()
            self._run_ends.put(None)  # unblock a waiting finish: it raises the error
            for _ in range(QUEUE_DEPTH + 1):
                self._slots.release()  # unblock a waiting submit: it raises the error


def main(argv: list[str]) -> None:
    """The writer process (`python -m possync.engine.writer_process JOBS_FD ACKS_FD`): take the
    database from the first message, connect, then commit pages in the order they arrive."""
    jobs = Connection(int(argv[0]), writable=False)
    acks = Connection(int(argv[1]), readable=False)
    # Whatever happens, no traceback: the engine reports a failure, in one line.
    with contextlib.suppress(BaseException):
        first = jobs.recv()
        if not isinstance(first, Connect):
            return
        _die_with(first.engine_pid)
        _configure_logging(first.log_level)
        _serve(first.db, jobs, acks)


def _serve(db: Database, jobs: Connection, acks: Connection) -> None:
    try:
        conn = db.connect()
    except BaseException as exc:
        acks.send(Failed(_picklable(exc)))
        return
    try:
        acks.send(Ready())
        inbox = _Inbox(jobs)
        committer: PageCommitter | None = None
        while True:
            message = inbox.get()
            try:
                match message:
                    case BeginRun(target, quarantine_in_use):
                        committer = PageCommitter(conn, target, quarantine_in_use=quarantine_in_use)
                    case WritePage(job) if committer is not None:
                        acks.send(Committed(committer.commit(job)))
                    case EndRun() if committer is not None:
                        acks.send(RunEnded(committer.totals))
                        committer = None
                    case Stop() | _EngineGone():
                        return  # what is committed stays; an unfinished page rolls back
                    case _:
                        raise RuntimeError(f"writer process: unexpected {type(message).__name__}")
            except BaseException as exc:
                acks.send(Failed(_picklable(exc)))
                return
    finally:
        conn.close()  # an unfinished page's transaction rolls back


class _EngineGone:
    """The jobs pipe reached end of file: the engine is gone."""


class _Inbox:
    """Receives pages as soon as they are sent (a thread), so the engine's `send` returns
    while this process still writes the page before: the engine validates on meanwhile.
    The engine bounds how many are in flight."""

    def __init__(self, jobs: Connection) -> None:
        self._jobs = jobs
        self._queue: queue.SimpleQueue[ToWriter | _EngineGone] = queue.SimpleQueue()
        threading.Thread(target=self._receive, name="possync-inbox", daemon=True).start()

    def _receive(self) -> None:
        try:
            while True:
                message = self._jobs.recv()
                self._queue.put(message)
                if isinstance(message, Stop):
                    return
        except BaseException:  # EOF: the engine is gone
            self._queue.put(_EngineGone())

    def get(self) -> ToWriter | _EngineGone:
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
