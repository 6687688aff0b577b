"""Freshness thresholds per entity: the global green/yellow hours, overridden per entity by
POSSYNC_HEALTH_THRESHOLDS (parsed in `possync.config.thresholds`).

The cards, `possync status` and the alerts pass these thresholds (`per_entity_thresholds`) to
the SQL function `sync_health_at`, which colours each entity; the `sync_health` view passes the
same values, read from `possync_settings`, which every possync process refreshes when it opens
the database (`possync.db.published_settings`), so a changed setting needs no `possync migrate`.
"""

from __future__ import annotations

from possync.config.settings import Settings
from possync.config.thresholds import (
    Thresholds,
    parse_thresholds,
    per_entity_hours,
    per_entity_overrides,
)


def thresholds_for(settings: Settings, source: str, entity: str) -> Thresholds:
    """The thresholds of one entity: source.entity, else entity, else the global hours."""
    overrides = parse_thresholds(settings.health_thresholds)
    found = overrides.get(f"{source}.{entity}") or overrides.get(entity)
    if found is not None:
        return found
    return Thresholds(settings.health_green_hours, settings.health_yellow_hours)


def resolved_overrides(settings: Settings) -> dict[str, Thresholds]:
    """ "source/entity" → thresholds, for every known entity that has an override."""
    return per_entity_overrides(settings.health_thresholds)


def per_entity_thresholds(settings: Settings) -> dict[str, list[float]]:
    """ "source/entity" → [green_hours, yellow_hours]: what `sync_health_at` takes (and what
    possync_settings.health_thresholds holds for the view)."""
    return per_entity_hours(settings.health_thresholds)
