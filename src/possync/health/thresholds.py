"""Freshness thresholds per entity: the global green/yellow hours, overridden per entity by
POSSYNC_HEALTH_THRESHOLDS (e.g. "sales=1h/4h,users=24h/72h,square.orders=30m/2h").

The cards, `possync status` and the alerts pass these thresholds (`per_entity_thresholds`) to
the SQL function `sync_health_at`, which colours each entity; the `sync_health` view passes the
same values, read from `possync_settings`, which every possync process refreshes when it opens
the database (`publish_health_thresholds`), so a changed setting needs no `possync migrate`.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import psycopg

from possync.db.queries import query
from possync.tables import SOURCES, entities_for

if TYPE_CHECKING:
    from possync.config.settings import Settings

THRESHOLDS_KEY = "health_thresholds"
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([mhd]?)\s*$")
_UNIT_HOURS = {"m": 1 / 60, "h": 1.0, "d": 24.0, "": 1.0}
EXAMPLE = "sales=1h/4h,users=24h/72h"


@dataclass(frozen=True)
class Thresholds:
    """Green while the last success is at most `green_hours` old, yellow up to `yellow_hours`."""

    green_hours: float
    yellow_hours: float


def _parse_duration(text: str, item: str) -> float:
    match = _DURATION.match(text)
    if match is None:
        raise ValueError(f"{item!r}: {text!r} is not a duration like 90m, 4h or 2d")
    hours = float(match.group(1)) * _UNIT_HOURS[match.group(2)]
    if not math.isfinite(hours) or hours <= 0:
        raise ValueError(f"{item!r}: durations must be more than 0")
    return hours


def _known_keys() -> set[str]:
    keys: set[str] = set()
    for source in SOURCES:
        for entity in entities_for(source):
            keys.update((entity, f"{source}.{entity}"))
    return keys


def parse_thresholds(spec: str) -> dict[str, Thresholds]:
    """ "sales=1h/4h, square.orders=30m/2h" → {"sales": …, "square.orders": …}.

    A key is an entity name (every source that has it) or source.entity. Raises ValueError
    with one line naming the bad item.
    """
    parsed: dict[str, Thresholds] = {}
    if not spec.strip():
        return parsed  # the usual case: no need to load the table declarations
    known = _known_keys()
    for item in (part.strip() for part in spec.split(",")):
        if not item:
            continue
        key, sep, value = item.partition("=")
        key = key.strip().lower()
        green_text, slash, yellow_text = value.partition("/")
        if not sep or not slash:
            raise ValueError(f"{item!r}: write ENTITY=GREEN/YELLOW, e.g. {EXAMPLE}")
        if key not in known:
            raise ValueError(
                f"{item!r}: unknown entity {key!r} (use a name from `possync status`, "
                "optionally as source.entity)"
            )
        green = _parse_duration(green_text, item)
        yellow = _parse_duration(yellow_text, item)
        if yellow < green:
            raise ValueError(f"{item!r}: the yellow threshold must be at least the green one")
        parsed[key] = Thresholds(green, yellow)
    return parsed


def thresholds_for(settings: Settings, source: str, entity: str) -> Thresholds:
    """The thresholds of one entity: source.entity, else entity, else the global hours."""
    overrides = parse_thresholds(settings.health_thresholds)
    found = overrides.get(f"{source}.{entity}") or overrides.get(entity)
    if found is not None:
        return found
    return Thresholds(settings.health_green_hours, settings.health_yellow_hours)


def resolved_overrides(settings: Settings) -> dict[str, Thresholds]:
    """ "source/entity" → thresholds, for every known entity that has an override."""
    overrides = parse_thresholds(settings.health_thresholds)
    resolved = {}
    for source in SOURCES:
        for entity in entities_for(source):
            found = overrides.get(f"{source}.{entity}") or overrides.get(entity)
            if found is not None:
                resolved[f"{source}/{entity}"] = found
    return resolved


def per_entity_thresholds(settings: Settings) -> dict[str, list[float]]:
    """ "source/entity" → [green_hours, yellow_hours]: what `sync_health_at` takes (and what
    possync_settings.health_thresholds holds for the view)."""
    return {
        key: [value.green_hours, value.yellow_hours]
        for key, value in sorted(resolved_overrides(settings).items())
    }


def publish_health_thresholds(conn: psycopg.Connection[Any], settings: Settings) -> None:
    """Write the thresholds the `sync_health` view reads; a no-op when they are unchanged."""
    # Skipped before `possync migrate` and for a role that may not write the table (a
    # read-only or not yet granted runtime role: the view keeps the thresholds it has).
    row = conn.execute(query("settings_writable")).fetchone()
    if not row or not row[0]:
        return
    for key, value in (
        ("health_green_hours", str(settings.health_green_hours)),
        ("health_yellow_hours", str(settings.health_yellow_hours)),
        (THRESHOLDS_KEY, json.dumps(per_entity_thresholds(settings), sort_keys=True)),
    ):
        conn.execute(query("publish_setting"), (key, value))
