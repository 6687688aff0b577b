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
from possync.errors import ConfigError
from possync.notify.model import AlertOutcome
from possync.notify.service import check_health, could_not_run, report_unchecked_shops
from possync.shops.registry import load_shops
from possync.shops.resolve import all_shops, cipher_for, pick_shop, shop_database, shop_settings
from possync.shops.secrets import NO_KEY


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
    listed (the control database unusable); a shop whose secrets cannot be read is checked
    as failed, its message sent to the global alert URLs."""
    with control.connect() as conn:
        shops = all_shops(conn, base)  # names and settings; each shop's secrets below
    cipher = cipher_for(base)
    checked = []
    for listed in shops or [pick_shop([], None, base)]:
        if listed.paused:
            checked.append(ShopAlerts(listed.name, paused=True))
            continue
        shop = listed
        db = shop_database(control, listed) if listed.registered else control
        try:
            if listed.registered:  # its alert URLs: one shop's bad key never silences others
                if cipher is None:
                    raise ConfigError(NO_KEY)
                with control.connect() as conn:
                    shop = load_shops(conn, cipher, only=listed.name)[0]
            settings = shop_settings(base, shop)
            # A registered shop whose schema is gone: said, never another schema read.
            with db.connect() as conn:
                ensure_schema_exists(conn, db.schema, check_access=False)
            outcome = check_health(settings, db, now)
        except Exception as exc:  # one shop's failure never hides the others' alerts
            settings = shop_settings(base, shop)  # the global URLs at least
            outcome = could_not_run(settings, db, f"for shop {listed.name}", exc)
        checked.append(ShopAlerts(listed.name, outcome, channels=len(settings.notify_url_list)))
    # A shop that could not be checked cannot alert about itself: the global URLs hear of it,
    # once per streak (an incident in the control schema), and again when it recovers.
    registered = {shop.name for shop in shops if shop.registered and not shop.paused}
    failed = {c.shop: c.outcome.error for c in checked if c.shop in registered and c.outcome.error}
    report_unchecked_shops(base, control, failed, registered - failed.keys(), now)
    return checked
