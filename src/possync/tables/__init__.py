"""Table declarations per source: which entities exist, in sync order, and their tables."""

from __future__ import annotations

from importlib import import_module
from types import ModuleType

from possync.errors import ConfigError
from possync.tables.spec import TableSpec

SOURCES = ("lightspeed", "square")


def _module(source: str) -> ModuleType:
    if source not in SOURCES:
        raise ConfigError(f"unknown source {source!r}: use one of {', '.join(SOURCES)}")
    return import_module(f"possync.tables.{source}")


def tables_for(source: str) -> dict[str, TableSpec]:
    """Entity name → table, in the order a historical import must run them."""
    tables: dict[str, TableSpec] = _module(source).TABLES
    return tables


def child_entities_for(source: str, entity: str) -> tuple[str, ...]:
    """Entities whose rows are written with `entity` (sale line items with sales)."""
    children: dict[str, tuple[str, ...]] = getattr(_module(source), "CHILD_ENTITIES", {})
    return children.get(entity, ())


def entities_for(source: str) -> tuple[str, ...]:
    """Every entity with a sync_state row: synced ones and their children, in sync order."""
    names: list[str] = []
    for entity in tables_for(source):
        names.append(entity)
        names.extend(child_entities_for(source, entity))
    return tuple(names)
