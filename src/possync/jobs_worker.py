"""Running procrastinate workers: in the foreground (`possync worker`) or in a thread (`serve`).

Sync jobs are synchronous functions: procrastinate runs each in a thread, up to
`POSSYNC_WORKER_CONCURRENCY` at once per process. Stopping is graceful: running jobs get
`SHUTDOWN_GRACE_SECONDS` to finish, then are asked to abort, which the sync job honours after its
current page commits (so nothing is lost: the next run resumes there).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import threading
from typing import Any

from procrastinate import App

from possync.config import Settings
from possync.db import Database
from possync.jobs import QUEUE, build_job_app

SHUTDOWN_GRACE_SECONDS = 10.0
# New jobs wake a worker at once (LISTEN/NOTIFY); this poll catches jobs that became
# runnable because a lock was released or a retry came due.
POLL_SECONDS = 1.0
MAX_RESTART_PAUSE_SECONDS = 60.0

logger = logging.getLogger(__name__)


def worker_options(settings: Settings, *, install_signal_handlers: bool) -> dict[str, Any]:
    return {
        "queues": [QUEUE],
        "concurrency": settings.worker_concurrency,
        "name": f"possync@{socket.gethostname()}:{os.getpid()}",
        "shutdown_graceful_timeout": SHUTDOWN_GRACE_SECONDS,
        "fetch_job_polling_interval": POLL_SECONDS,
        "install_signal_handlers": install_signal_handlers,
        "delete_jobs": "never",  # the jobs page shows finished jobs; maintenance prunes them
    }


def run_worker(settings: Settings, db: Database, *, schedules: bool = False) -> None:
    """Work until SIGINT or SIGTERM (blocking); `schedules` also runs the periodic deferrer."""
    app = build_job_app(
        settings, db, schedules=schedules, max_pool_size=2 + settings.worker_concurrency
    )
    app.run_worker(**worker_options(settings, install_signal_handlers=True))


class BackgroundWorker:
    """A worker (and optionally the scheduler) on its own event loop in a daemon thread.

    If the worker stops on an error (the database went away), it starts again with a growing
    pause, so a long-running `serve` heals by itself.
    """

    def __init__(self, settings: Settings, db: Database, *, schedules: bool = True) -> None:
        self.app: App = build_job_app(
            settings, db, schedules=schedules, max_pool_size=2 + settings.worker_concurrency
        )
        self._options = worker_options(settings, install_signal_handlers=False)
        self._thread = threading.Thread(target=self._run, name="possync-worker", daemon=True)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[Any] | None = None
        self._ready = threading.Event()
        self._stopping = threading.Event()
        self.restarts = 0
        self.last_error: str | None = None

    def start(self, wait_seconds: float = 15.0) -> None:
        """Start, and wait until the worker is connected (or has failed once)."""
        self._thread.start()
        self._ready.wait(timeout=wait_seconds)

    @property
    def is_alive(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        pause = 1.0
        while not self._stopping.is_set():
            try:
                asyncio.run(self._main())
            except asyncio.CancelledError:
                return
            except Exception as exc:
                self.last_error = f"{type(exc).__name__}: {exc}"
                logger.warning("worker stopped (%s); starting again in %.0f s", exc, pause)
            else:
                return
            finally:
                self._ready.set()
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
            self._ready.set()
            await self.app.run_worker_async(**self._options)

    def stop(self, timeout: float = SHUTDOWN_GRACE_SECONDS + 20) -> None:
        """Ask the worker to stop (graceful, see the module doc) and wait for it."""
        self._stopping.set()
        loop, task = self._loop, self._task
        if loop is not None and task is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed in between: stopped
                loop.call_soon_threadsafe(task.cancel)
        self._thread.join(timeout)
