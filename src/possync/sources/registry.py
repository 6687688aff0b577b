"""Every source possync syncs, declared once: name → API client, tables, child entities,
reconciliation, deep pass, and which settings configure it.

The CLI, the engine, the jobs, the dashboard and the alerts ask here; nothing else lists
sources or walks table declarations by hand.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

import httpx

from possync.config.settings import Settings
from possync.errors import ConfigError
from possync.sources.base import Source
from possync.sources.http import RetryPolicy
from possync.sources.lightspeed import LightspeedSource
from possync.sources.square import SquareSource
from possync.tables.declared import LIGHTSPEED, SQUARE
from possync.tables.spec import ReconcileSpec, SourceTables, TableSpec


class SourceClient(Protocol):
    """How a source's API client is built (its class)."""

    def __call__(
        self,
        settings: Settings,
        *,
        transport: httpx.BaseTransport | None = None,
        retry: RetryPolicy | None = None,
    ) -> Source: ...


@dataclass(frozen=True)
class RegisteredSource:
    name: str
    client: SourceClient
    tables: SourceTables
    # Whether the settings hold what the client needs (URL, token).
    is_configured: Callable[[Settings], bool]


def _lightspeed_configured(settings: Settings) -> bool:
    return bool(settings.lightspeed_base_url) and settings.lightspeed_token is not None


def _square_configured(settings: Settings) -> bool:
    return settings.square_token is not None


REGISTRY: dict[str, RegisteredSource] = {
    entry.name: entry
    for entry in (
        RegisteredSource("lightspeed", LightspeedSource, LIGHTSPEED, _lightspeed_configured),
        RegisteredSource("square", SquareSource, SQUARE, _square_configured),
    )
}
SOURCES: tuple[str, ...] = tuple(REGISTRY)


def registered(source: str) -> RegisteredSource:
    """The declaration of `source`; a one-line ConfigError for an unknown name."""
    entry = REGISTRY.get(source)
    if entry is None:
        raise ConfigError(f"unknown source {source!r}: use one of {', '.join(SOURCES)}")
    return entry


def open_source(
    settings: Settings,
    name: str,
    *,
    transport: httpx.BaseTransport | None = None,
    retry: RetryPolicy | None = None,
) -> Source:
    """The configured source by name; a one-line ConfigError when it is not set up."""
    return registered(name).client(settings, transport=transport, retry=retry)


def configured_sources(settings: Settings) -> tuple[str, ...]:
    """Sources with credentials: Lightspeed needs a URL and a token, Square a token."""
    return tuple(name for name, entry in REGISTRY.items() if entry.is_configured(settings))


def tables_for(source: str) -> Mapping[str, TableSpec]:
    """Entity name → table, in the order a historical import must run them."""
    return registered(source).tables.tables


def child_entities_for(source: str, entity: str) -> tuple[str, ...]:
    """Entities whose rows are written with `entity` (sale line items with sales)."""
    return registered(source).tables.children_of(entity)


def entities_for(source: str) -> tuple[str, ...]:
    """Every entity with a sync_state row: synced ones and their children, in sync order."""
    return registered(source).tables.entities


def sync_target(source: str, entity: str) -> str:
    """The entity a sync of `entity` runs: child rows (sale line items) sync with their
    parent (sales), so both share one run and one lock."""
    parent = registered(source).tables.synced_with(entity)
    if parent is None:
        valid = ", ".join(entities_for(source))
        raise ConfigError(f"unknown {source} entity {entity!r}: use one of {valid}")
    return parent


def resolve_entities(source: str, requested: tuple[str, ...]) -> list[str]:
    """Requested entity names, checked and put in sync order (empty: all of them)."""
    tables = registered(source).tables.tables
    if not requested:
        return list(tables)
    wanted = {sync_target(source, name) for name in requested}
    return [entity for entity in tables if entity in wanted]


def reconcile_spec_for(source: str) -> ReconcileSpec | None:
    """How the source's business days reconcile; None when it declares no reconciliation."""
    return registered(source).tables.reconcile


def can_reconcile(source: str) -> bool:
    """Whether the source declares how to reconcile it."""
    return reconcile_spec_for(source) is not None


def deep_pass_entities(source: str) -> tuple[str, ...]:
    """The entities the nightly deep pass reads in full, in sync order."""
    declared = registered(source).tables
    return tuple(e for e in declared.tables if e in declared.deep_pass_entities)
