"""What the shops page shows per shop: its health summary (the colours of its entities, the
worst one), its last success, its money check and whether it is paused.

Per shop: one health query (`sync_health_at`, the one colour rule, through
`read_entity_statuses`) and one reconciliation query per source, on one connection whose
search path moves from shop to shop.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import psycopg

from possync.errors import DatabaseError
from possync.health.status import NEVER_SYNCED_HEALTH, read_entity_statuses
from possync.sources.registry import configured_sources, entities_for
from possync.web.reconcile_data import MoneyCheck, read_money_checks
from possync.web.shop_context import ShopView, ensure_shop_schema
from possync.web.status_data import HEALTH_LEVELS


@dataclass(frozen=True)
class MoneyVerdict:
    """A source's last reconciliation in a word: "matches", "differs" or "not run"."""

    source: str
    verdict: str
    differences: int = 0
    checked_at: datetime | None = None

    @classmethod
    def of(cls, check: MoneyCheck) -> MoneyVerdict:
        if check.ok is None:
            return cls(check.source, "not run")
        verdict = "matches" if check.ok else "differs"
        return cls(check.source, verdict, check.difference_count, check.checked_at)


@dataclass(frozen=True)
class ShopRow:
    name: str
    schema: str
    sources: tuple[str, ...]
    registered: bool
    paused: bool
    health: dict[str, int]  # colour → entities
    last_success: datetime | None
    money: list[MoneyVerdict] = field(default_factory=list)
    problem: str | None = None  # why its data could not be read

    @property
    def worst(self) -> str:
        """The worst colour among its entities ("none" when it has none yet)."""
        if self.problem is not None:  # unreadable: as bad as a red entity, never "none"
            return "red"
        present = [colour for colour, count in self.health.items() if count]
        return max(present, key=HEALTH_LEVELS.__getitem__) if present else "none"

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "schema": self.schema,
            "sources": list(self.sources),
            "paused": self.paused,
            "health": self.health,
            "worst": self.worst,
            "last_success": self.last_success.isoformat() if self.last_success else None,
            "money_check": {
                m.source: {"verdict": m.verdict, "differences": m.differences} for m in self.money
            },
            "problem": self.problem,
        }


def read_shop_row(conn: psycopg.Connection[Any], shop: ShopView) -> ShopRow:
    """One shop's row (`conn` on the shop's schema, autocommit). A schema not migrated yet
    gives a row that says so rather than a page that fails for every shop."""
    try:
        ensure_shop_schema(conn, shop)
        return _read_shop_row(conn, shop)
    except (DatabaseError, psycopg.errors.UndefinedTable, psycopg.errors.UndefinedFunction):
        return ShopRow(
            name=shop.name,
            schema=shop.db.schema,
            sources=shop.shop.sources,
            registered=shop.shop.registered,
            paused=shop.shop.paused,
            health={colour: 0 for colour in HEALTH_LEVELS},
            last_success=None,
            problem=f"schema {shop.db.schema} is not migrated: run `possync migrate`",
        )


def _read_shop_row(conn: psycopg.Connection[Any], shop: ShopView) -> ShopRow:
    settings = shop.settings
    statuses = read_entity_statuses(conn, settings)
    colours = {status.key: status.health for status in statuses}
    for source in configured_sources(settings):
        for entity in entities_for(source):
            colours.setdefault((source, entity), NEVER_SYNCED_HEALTH)
    counted = Counter(colours.values())
    successes = [s.last_sync_time for s in statuses if s.last_sync_time is not None]
    sources = shop.shop.sources or configured_sources(settings)
    return ShopRow(
        name=shop.name,
        schema=shop.db.schema,
        sources=tuple(sources),
        registered=shop.shop.registered,
        paused=shop.shop.paused,
        health={colour: counted.get(colour, 0) for colour in HEALTH_LEVELS},
        last_success=max(successes) if successes else None,
        money=[MoneyVerdict.of(check) for check in read_money_checks(conn, settings)],
    )
