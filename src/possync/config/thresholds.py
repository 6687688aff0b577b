"""POSSYNC_HEALTH_THRESHOLDS: per-entity freshness thresholds over the global green/yellow
hours, e.g. "sales=1h/4h,users=24h/72h,square.orders=30m/2h".

Parsed here, when the settings are read, so a bad item stops possync in one line; applied in
`possync.health.thresholds`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from possync.tables.declared import DECLARED_TABLES

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
    for declared in DECLARED_TABLES:
        for entity in declared.entities:
            keys.update((entity, f"{declared.source}.{entity}"))
    return keys


def parse_thresholds(spec: str) -> dict[str, Thresholds]:
    """ "sales=1h/4h, square.orders=30m/2h" → {"sales": …, "square.orders": …}.

    A key is an entity name (every source that has it) or source.entity. Raises ValueError
    with one line naming the bad item.
    """
    parsed: dict[str, Thresholds] = {}
    if not spec.strip():
        return parsed
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


def per_entity_overrides(spec: str) -> dict[str, Thresholds]:
    """ "source/entity" → thresholds, for every declared entity that `spec` overrides."""
    overrides = parse_thresholds(spec)
    resolved = {}
    for declared in DECLARED_TABLES:
        for entity in declared.entities:
            found = overrides.get(f"{declared.source}.{entity}") or overrides.get(entity)
            if found is not None:
                resolved[f"{declared.source}/{entity}"] = found
    return resolved


def per_entity_hours(spec: str) -> dict[str, list[float]]:
    """ "source/entity" → [green_hours, yellow_hours], sorted: what the SQL function
    `sync_health_at` takes and what possync_settings.health_thresholds holds for the view."""
    return {
        key: [value.green_hours, value.yellow_hours]
        for key, value in sorted(per_entity_overrides(spec).items())
    }


def checked_thresholds(value: str) -> str:
    """The setting's value once it parses (validator of POSSYNC_HEALTH_THRESHOLDS)."""
    parse_thresholds(value)
    return value.strip()
