"""Shops for the job tests: registered in the control schema (tokens encrypted) and migrated,
each pointing at one store of a multi-store simulator."""

from __future__ import annotations

from pydantic import SecretStr

from possync.config.settings import Settings
from possync.db.connection import Database
from possync.shops.model import Connection, Shop, schema_for
from possync.shops.registry import insert_shop, set_paused
from possync.shops.resolve import cipher_for
from possync.shops.schemas import migrate_shop
from possync.simulator import RunningSimulator


def register_shop(
    db: Database,
    settings: Settings,
    name: str,
    sim: RunningSimulator,
    store: int,
    *,
    square: bool = True,
    timezone: str = "UTC",
    paused: bool = False,
    schedule_incremental: str | None = None,
    schedule_deep: str | None = None,
) -> Shop:
    """Add shop `name` for store `store` of `sim` (Lightspeed, and Square unless told not)."""
    token = SecretStr(f"{sim.token}-{store}")
    connections = {"lightspeed": Connection("lightspeed", sim.lightspeed_url, token)}
    if square:
        connections["square"] = Connection("square", sim.square_url, token)
    shop = Shop(
        name=name,
        schema_name=schema_for(name),
        timezone=timezone,
        paused=paused,
        schedule_incremental=schedule_incremental,
        schedule_deep=schedule_deep,
        connections=connections,
    )
    with db.connect() as conn:
        insert_shop(conn, shop, cipher_for(settings))
        set_paused(conn, name, paused)  # a shop is added active
        conn.commit()
    migrate_shop(db, settings, shop)
    return shop
