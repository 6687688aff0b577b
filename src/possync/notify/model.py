"""The values alerts pass around: problems, messages, deliveries and outcomes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

IncidentKind = Literal["sync_health", "reconciliation", "shops"]
ProblemKind = Literal["failed", "stale", "never_synced", "mismatch"]
MessageKind = Literal["opened", "reminder", "recovered", "daily_summary", "test", "quarantine"]
# apprise's NotifyType values: they pick the colour and icon of a Slack or Teams message.
NotifyLevel = Literal["info", "success", "warning", "failure"]

EntityKey = tuple[str, str]  # (source, entity_type)


class SyncResultLike(Protocol):
    """What alerts read from one entity's result (`possync.engine.run.EntityResult`)."""

    @property
    def source(self) -> str: ...
    @property
    def entity(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def error(self) -> str | None: ...


class SyncReportLike(Protocol):
    """What alerts read from a run's report (`possync.engine.run.SyncReport`)."""

    @property
    def results(self) -> Sequence[SyncResultLike]: ...


@dataclass(frozen=True)
class EntityProblem:
    """One unhealthy (source, entity) right now. `detail` is already scrubbed of secrets."""

    source: str
    entity: str
    problem: ProblemKind
    detail: str | None
    last_sync_time: datetime | None
    last_attempt_time: datetime | None = None

    @property
    def key(self) -> EntityKey:
        return (self.source, self.entity)

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "entity": self.entity,
            "problem": self.problem,
            "detail": self.detail,
            "last_sync_time": _iso(self.last_sync_time),
            "last_attempt_time": _iso(self.last_attempt_time),
        }


@dataclass(frozen=True)
class ReconciliationMismatch:
    """A reconciliation found stored data that disagrees with the API.

    `details` is one line a person can act on, e.g. "API 1204 sales totalling 52310.00,
    database 1203 totalling 52290.00". It is scrubbed of secrets before it is sent.
    """

    source: str
    entity: str
    details: str


@dataclass(frozen=True)
class IncidentEntity:
    """An entity as recorded on an incident."""

    source: str
    entity: str
    problem: ProblemKind
    detail: str | None
    last_sync_time: datetime | None
    first_seen_at: datetime
    resolved_at: datetime | None
    announced: bool

    @property
    def active(self) -> bool:
        return self.resolved_at is None


@dataclass(frozen=True)
class Incident:
    id: int
    kind: IncidentKind
    opened_at: datetime
    closed_at: datetime | None
    last_notified_at: datetime | None
    messages_sent: int
    last_delivery_error: str | None


@dataclass(frozen=True)
class AlertMessage:
    """A message ready to send: the same content as plain text and as HTML."""

    kind: MessageKind
    title: str
    text: str
    html: str
    level: NotifyLevel


@dataclass(frozen=True)
class ChannelResult:
    """The outcome on one configured URL, named by service ("E-Mail", "Slack"), never by URL."""

    position: int  # 1-based place in POSSYNC_NOTIFY_URLS
    service: str
    delivered: bool
    error: str | None = None

    def describe(self) -> str:
        state = "delivered" if self.delivered else f"failed: {self.error or 'not delivered'}"
        return f"URL #{self.position} ({self.service}) {state}"


@dataclass(frozen=True)
class Delivery:
    channels: tuple[ChannelResult, ...]

    @property
    def delivered(self) -> int:
        return sum(1 for channel in self.channels if channel.delivered)

    @property
    def failed(self) -> int:
        return len(self.channels) - self.delivered

    @property
    def errors(self) -> str | None:
        failures = [channel.describe() for channel in self.channels if not channel.delivered]
        return "; ".join(failures) or None


@dataclass(frozen=True)
class SentMessage:
    """A message this evaluation attempted, and what became of it."""

    kind: MessageKind
    title: str
    incident_id: int | None
    delivery: Delivery

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "title": self.title,
            "incident_id": self.incident_id,
            "channels": len(self.delivery.channels),
            "delivered": self.delivery.delivered,
            "errors": self.delivery.errors,
        }


@dataclass
class AlertOutcome:
    """What one evaluation found and sent. `error` is set when alerts could not run at all."""

    problems: list[EntityProblem] = field(default_factory=list)
    messages: list[SentMessage] = field(default_factory=list)
    open_incidents: list[int] = field(default_factory=list)
    error: str | None = None

    @property
    def undelivered(self) -> list[SentMessage]:
        """Messages that reached no channel although channels are configured."""
        return [m for m in self.messages if m.delivery.channels and m.delivery.delivered == 0]

    def to_json(self) -> dict[str, Any]:
        return {
            "problems": [problem.to_json() for problem in self.problems],
            "messages": [message.to_json() for message in self.messages],
            "open_incidents": self.open_incidents,
            "error": self.error,
        }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
