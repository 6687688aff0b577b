"""Alerts for every shop of the deployment (`possync alerts check --all-shops`, and the
worker's periodic check): each shop evaluated in its own schema with its own settings, so its
messages name it, link to its page and go to its own URLs as well as the global ones.

One shop whose evaluation fails (its schema gone, a statement refused) is reported with its
reason and the others are still checked. A paused shop is not checked: it syncs nothing, so
its data going stale is what its owner asked for.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from possync.config.settings import Settings
from possync.db.access import ensure_schema_exists
from possync.db.connection import Database
from possync.notify.model import AlertOutcome
from possync.notify.service import check_health, could_not_run
from possync.shops.resolve import all_shops, pick_shop, shop_database, shop_settings


@dataclass(frozen=True)
class ShopAlerts:
    """What one shop's evaluation found and sent (nothing for a paused shop); `channels` is
    how many alert URLs the shop has, the global ones included."""

    shop: str
    outcome: AlertOutcome = field(default_factory=AlertOutcome)
    paused: bool = False
    channels: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "shop": self.shop,
            "paused": self.paused,
            "channels": self.channels,
            **self.outcome.to_json(),
        }


def check_all_shops(
    base: Settings, control: Database, now: datetime | None = None
) -> list[ShopAlerts]:
    """`check_health` for every shop, the environment's first; with no shop at all, the
    environment's alone (today's single-shop setup). Raises only when the shops cannot be
    read (the control database unusable, POSSYNC_ENCRYPTION_KEY missing or wrong)."""
    with control.connect() as conn:
        shops = all_shops(conn, base, secrets=True)
    checked = []
    for shop in shops or [pick_shop([], None, base)]:
        if shop.paused:
            checked.append(ShopAlerts(shop.name, paused=True))
            continue
        settings = shop_settings(base, shop)
        db = shop_database(control, shop) if shop.registered else control
        try:
            # A registered shop whose schema is gone would otherwise read the control
            # schema's tables (the search path ends with public) under the shop's name.
            with db.connect() as conn:
                ensure_schema_exists(conn, db.schema, check_access=False)
            outcome = check_health(settings, db, now)
        except Exception as exc:  # one shop's failure never hides the others' alerts
            outcome = could_not_run(settings, db, f"for shop {shop.name}", exc)
        checked.append(ShopAlerts(shop.name, outcome, channels=len(settings.notify_url_list)))
    return checked
