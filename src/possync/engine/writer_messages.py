"""What the engine and its writer process say to each other on their pipes: one small frozen
dataclass per message, so each side matches on a type instead of a string tag."""

from __future__ import annotations

from dataclasses import dataclass

from possync.db.connection import Database
from possync.db.state import RunCounters
from possync.engine.page_commit import PageJob, WalkTarget, WrittenTotals

# Engine → writer process, in this order: Connect once, then per entity run BeginRun, its
# pages (WritePage) and EndRun; Stop when the sync is over.


@dataclass(frozen=True)
class Connect:
    """The first message: the database to connect to (never on a command line), and the engine
    to die with."""

    db: Database
    engine_pid: int
    log_level: int


@dataclass(frozen=True)
class BeginRun:
    target: WalkTarget
    quarantine_in_use: bool


@dataclass(frozen=True)
class WritePage:
    job: PageJob


@dataclass(frozen=True)
class EndRun:
    """Every page of the run is sent: answer with the run's totals."""


@dataclass(frozen=True)
class Stop:
    """The sync is over: close the connection and leave."""


ToWriter = Connect | BeginRun | WritePage | EndRun | Stop

# Writer process → engine.


@dataclass(frozen=True)
class Ready:
    """Connected: pages can be written."""


@dataclass(frozen=True)
class Committed:
    counters: RunCounters  # as committed with the page


@dataclass(frozen=True)
class RunEnded:
    totals: WrittenTotals


@dataclass(frozen=True)
class Failed:
    """A page (or the connection) failed: the process leaves after sending this."""

    error: BaseException


FromWriter = Ready | Committed | RunEnded | Failed
