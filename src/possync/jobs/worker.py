"""Running procrastinate workers: in the foreground (`possync worker`) or in a thread (`serve`).

Sync jobs are synchronous functions: procrastinate runs each in a thread, up to
`POSSYNC_WORKER_CONCURRENCY` at once per process, one of them kept from imports
(`worker_options`). Stopping is graceful: running jobs get
`SHUTDOWN_GRACE_SECONDS` to finish, then are asked to abort, which the sync job honours after its
current page commits (so nothing is lost: the next run resumes there).

A worker never stops by itself. procrastinate ends its worker normally when a side task fails
(its LISTEN connection died in a PostgreSQL restart) and with an exception when a query
fails; both are failures here: the worker (and its scheduler) connect again with a growing
pause, for as long as it takes. While it runs, the worker writes heartbeats (`heartbeat.py`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import threading
from types import FrameType
from typing import Any

from procrastinate import App

from possync.config.settings import Settings
from possync.db.connection import Database
from possync.jobs import heartbeat
from possync.jobs.app import build_job_app
from possync.jobs.names import IMPORT_QUEUE, QUEUE, SCHEDULE_QUEUE
from possync.jobs.schedule import requeue_stalled_jobs

SHUTDOWN_GRACE_SECONDS = 10.0
# New jobs wake a worker at once (LISTEN/NOTIFY); this poll catches jobs that became
# runnable because a lock was released or a retry came due.
POLL_SECONDS = 1.0
# Reconnecting after the database went away: the first pause, doubling up to the last.
FIRST_RESTART_PAUSE_SECONDS = 1.0
MAX_RESTART_PAUSE_SECONDS = 30.0
# A beat that takes longer than this counts as failed (the database hangs).
BEAT_TIMEOUT_SECONDS = 10.0
# How often a running worker requeues jobs left `doing` by workers that died (see below).
STALLED_CHECK_SECONDS = 30.0

logger = logging.getLogger(__name__)


def process_name() -> str:
    return f"possync@{socket.gethostname()}:{os.getpid()}"


def worker_options(settings: Settings, *, install_signal_handlers: bool) -> list[dict[str, Any]]:
    """The procrastinate workers of one process: with N slots, N-1 take any job (imports
    last, by priority) and one never takes an import, so a shop's import of hours never holds
    every slot while the other shops' hourly syncs wait. With one slot, it takes anything."""
    name = process_name()
    common = {
        "shutdown_graceful_timeout": SHUTDOWN_GRACE_SECONDS,
        "fetch_job_polling_interval": POLL_SECONDS,
        "install_signal_handlers": install_signal_handlers,
        "delete_jobs": "never",  # the jobs page shows finished jobs; maintenance prunes them
    }
    every_queue = [SCHEDULE_QUEUE, QUEUE, IMPORT_QUEUE]
    if settings.worker_concurrency == 1:
        return [{**common, "name": name, "queues": every_queue, "concurrency": 1}]
    return [
        {
            **common,
            "name": name,
            "queues": every_queue,
            "concurrency": settings.worker_concurrency - 1,
        },
        {
            **common,
            "name": f"{name}/no-imports",
            "queues": [SCHEDULE_QUEUE, QUEUE],
            "concurrency": 1,
        },
    ]


def _raise_interrupt(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def run_worker(settings: Settings, db: Database, *, schedules: bool = False) -> None:
    """Work until SIGINT or SIGTERM (blocking); `schedules` also runs the periodic deferrer.

    The worker runs supervised (`BackgroundWorker`), so losing the database never ends it."""
    worker = BackgroundWorker(settings, db, schedules=schedules)
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        worker.start()
        while not worker.wait_until_stopped(1.0):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        worker.stop()


class BackgroundWorker:
    """A worker (and optionally the scheduler) on its own event loop in a daemon thread.

    Whenever the worker ends without being asked to (an error, or procrastinate stopping it
    because a connection died), it starts again after a pause that doubles up to
    `MAX_RESTART_PAUSE_SECONDS` and starts over once a run got connected again.
    """

    def __init__(
        self,
        settings: Settings,
        db: Database,
        *,
        schedules: bool = True,
        beat_seconds: float = heartbeat.BEAT_SECONDS,
    ) -> None:
        self.app: App = build_job_app(
            settings, db, schedules=schedules, max_pool_size=4 + settings.worker_concurrency
        )
        self._options = worker_options(settings, install_signal_handlers=False)
        self.name: str = self._options[0]["name"]
        self.roles = ("worker", "scheduler") if schedules else ("worker",)
        self._beat_seconds = beat_seconds
        self._thread = threading.Thread(target=self._run, name="possync-worker", daemon=True)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[Any] | None = None
        self._ready = threading.Event()
        self._stopping = threading.Event()
        self._stopped = threading.Event()
        self._beat_ok = False  # the current run reached the database at least once
        self.restarts = 0
        self.last_error: str | None = None

    def start(self, wait_seconds: float = 15.0) -> None:
        """Start, and wait until the worker has beaten once (or has failed once)."""
        self._thread.start()
        self._ready.wait(timeout=wait_seconds)

    @property
    def is_alive(self) -> bool:
        return self._thread.is_alive()

    def wait_until_stopped(self, timeout: float) -> bool:
        """True once the worker thread has ended. An Event, not `Thread.join`: on Python
        3.11 a Ctrl-C that interrupts a join marks the still-running thread as stopped."""
        return self._stopped.wait(timeout)

    def _run(self) -> None:
        try:
            self._supervise()
        finally:
            self._stopped.set()

    def _supervise(self) -> None:
        pause = FIRST_RESTART_PAUSE_SECONDS
        while not self._stopping.is_set():
            self._beat_ok = False
            try:
                asyncio.run(self._main())
                reason = "procrastinate stopped the worker (a connection to PostgreSQL died)"
            except asyncio.CancelledError:
                reason = "the worker was cancelled"
            except Exception as exc:
                reason = f"{type(exc).__name__}: {_first_line(exc)}"
            finally:
                self._ready.set()
            if self._stopping.is_set():
                return
            if self._beat_ok:  # it had recovered: a new outage starts from the first pause
                pause = FIRST_RESTART_PAUSE_SECONDS
            self.last_error = reason
            logger.warning("worker stopped (%s); starting again in %.0f s", reason, pause)
            if self._stopping.wait(pause):
                return
            self.restarts += 1
            pause = min(pause * 2, MAX_RESTART_PAUSE_SECONDS)

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._task = asyncio.current_task()
        if self._stopping.is_set():
            return
        async with self.app.open_async():
            work = asyncio.create_task(self._work())
            beats = asyncio.create_task(self._beat_while_working(work))
            try:
                await work
            finally:
                beats.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await beats
                if self._stopping.is_set():
                    await self._forget()

    async def _work(self) -> None:
        """Run this process's procrastinate workers; when one ends, stop the others (the
        supervisor then starts them all again)."""
        workers = [
            asyncio.create_task(self.app.run_worker_async(**options)) for options in self._options
        ]
        try:
            done, _ = await asyncio.wait(workers, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for worker in workers:
                worker.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
        for worker in done:
            worker.result()  # its error, if it failed

    async def _beat_while_working(self, work: asyncio.Task[Any]) -> None:
        """Beat every `beat_seconds`; every `STALLED_CHECK_SECONDS` (and at once on a
        restart) also requeue the jobs of dead workers, so a job interrupted by an outage
        runs again within a minute rather than at the next housekeeping."""
        connector = self.app.connector
        with contextlib.suppress(Exception):  # housekeeping only: a failure here is harmless
            await asyncio.wait_for(heartbeat.forget_old(connector), BEAT_TIMEOUT_SECONDS)
        loop = asyncio.get_running_loop()
        next_check = loop.time() + (0 if self.restarts else STALLED_CHECK_SECONDS)
        while not work.done():
            try:
                await asyncio.wait_for(
                    heartbeat.beat(connector, self.name, self.roles, self.restarts),
                    BEAT_TIMEOUT_SECONDS,
                )
                self._beat_ok = True
            except Exception as exc:  # the worker meets the same failure and restarts
                logger.warning("heartbeat not recorded: %s", _first_line(exc))
            if self._beat_ok and loop.time() >= next_check:
                next_check = loop.time() + STALLED_CHECK_SECONDS
                try:
                    await requeue_stalled_jobs(self.app.job_manager)
                except Exception as exc:  # the next check, or the housekeeping, tries again
                    logger.warning("requeueing stalled jobs failed: %s", _first_line(exc))
            self._ready.set()
            await asyncio.sleep(self._beat_seconds)

    async def _forget(self) -> None:
        """Stopping on purpose: this process no longer counts as alive."""
        try:
            await asyncio.wait_for(
                heartbeat.forget(self.app.connector, self.name), BEAT_TIMEOUT_SECONDS
            )
        except Exception as exc:  # its rows go stale by themselves
            logger.info("could not remove the heartbeats of %s: %s", self.name, _first_line(exc))

    def stop(self, timeout: float = SHUTDOWN_GRACE_SECONDS + 20) -> None:
        """Ask the worker to stop (graceful, see the module doc) and wait for it."""
        self._stopping.set()
        loop, task = self._loop, self._task
        if loop is not None and task is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed in between: stopped
                loop.call_soon_threadsafe(task.cancel)
        self._thread.join(timeout)


class OneLineJobLogs(logging.Filter):
    """procrastinate logs a traceback with each error it meets (a side task whose connection
    died, a failed job). Without --debug, keep one line: its message and the first line of
    the underlying error (procrastinate wraps psycopg's in a ConnectorException)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith("procrastinate") and record.exc_info:
            error = record.exc_info[1]
            if error is not None:
                cause = error.__cause__ or error
                message = " ".join(record.getMessage().split()).rstrip(": ,")
                record.msg = f"{message} ({type(cause).__name__}: {_first_line(cause)})"
                record.args = None
            record.exc_info = None
            record.exc_text = None
        return True


def one_line_job_logs() -> None:
    """Install `OneLineJobLogs` on the handlers the command line configured."""
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, OneLineJobLogs) for f in handler.filters):
            handler.addFilter(OneLineJobLogs())


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
