"""The sales history a store has when the simulator starts: many days of trading in each
outlet's opening hours (local time), with every status, returns, voids, late uploads and
deletions."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from possync.simulator.lightspeed.catalog import OutletInfo
from possync.simulator.lightspeed.sale_factory import SaleFactory
from possync.simulator.lightspeed.sales import OPENED_AS, Sale
from possync.simulator.lightspeed.scales import ScalePlan

OPENING_HOUR = 9
OPEN_SECONDS = 11 * 3600
OUTLET_WEIGHTS = (5, 4, 3, 2, 2)
STATUS_WEIGHTS = {
    "CLOSED": 800,
    "VOIDED": 30,
    "SAVED": 30,
    "LAYBY": 15,
    "LAYBY_CLOSED": 20,
    "ONACCOUNT": 15,
    "ONACCOUNT_CLOSED": 20,
    "AWAITING_DISPATCH": 5,
    "AWAITING_PICKUP": 5,
    "DISPATCHED_CLOSED": 15,
    "PICKED_UP_CLOSED": 15,
    "SERVICE": 10,
    "SERVICE_CLOSED": 20,
}
RETURN_SHARE = 0.03
LATE_SHARE = 0.02


def opening_times(outlets: list[OutletInfo], days: int, end: int) -> list[list[int]]:
    """Per outlet, the UTC epoch of 09:00 local on each of the `days` local days before `end`."""
    result = []
    for outlet in outlets:
        zone = ZoneInfo(outlet.plan.time_zone)
        today = datetime.fromtimestamp(end, zone).date()
        opens = []
        for back in range(days, 0, -1):
            day = today - timedelta(days=back)
            local = datetime(day.year, day.month, day.day, OPENING_HOUR, tzinfo=zone)
            opens.append(int(local.timestamp()))
        result.append(opens)
    return result


def generate_history(
    rng: random.Random, factory: SaleFactory, plan: ScalePlan, end: int
) -> list[Sale]:
    """`plan.sales` sales (plus returns) before `end`, in ascending sale_date order."""
    outlets = factory.catalog.outlets
    opens = opening_times(outlets, plan.days, end)
    weights = OUTLET_WEIGHTS[: len(outlets)]
    outlet_picks = rng.choices(range(len(outlets)), weights=weights, k=plan.sales)
    slots = sorted(
        (opens[outlet][rng.randrange(plan.days)] + rng.randrange(OPEN_SECONDS), outlet)
        for outlet in outlet_picks
    )
    statuses = rng.choices(
        list(STATUS_WEIGHTS), weights=list(STATUS_WEIGHTS.values()), k=len(slots)
    )
    sales: list[Sale] = []
    closed_by_outlet: list[list[Sale]] = [[] for _ in outlets]
    for (sale_date, outlet), status in zip(slots, statuses, strict=True):
        recent_closed = closed_by_outlet[outlet]
        if status == "CLOSED" and recent_closed and rng.random() < RETURN_SHARE:
            original = recent_closed[-rng.randrange(1, min(len(recent_closed), 200) + 1)]
            sale = factory.return_of(rng, original, sale_date)
            original.updated_at = max(original.updated_at, sale_date)
        else:
            sale = _historic_sale(rng, factory, outlet, sale_date, status, end)
            if sale.status == "CLOSED" and sale.deleted_at is None:
                recent_closed.append(sale)
        sales.append(sale)
    return sales


def _historic_sale(
    rng: random.Random, factory: SaleFactory, outlet: int, sale_date: int, status: str, end: int
) -> Sale:
    latest = end - 60
    created_at = sale_date
    if rng.random() < LATE_SHARE:  # rung up offline, uploaded hours later
        created_at = min(sale_date + rng.randrange(3600, 72 * 3600), latest)
    opened = "CLOSED" if status == "VOIDED" else OPENED_AS.get(status, status)
    sale = factory.new_sale(rng, outlet, sale_date, created_at, opened)
    if status == "VOIDED":
        factory.void(sale, min(created_at + rng.randrange(60, 7200), latest))
    elif status != opened:
        factory.close(rng, sale, status, min(created_at + rng.randrange(3600, 14 * 86_400), latest))
    delete_share = 0.3 if status == "SAVED" else 0.003
    if rng.random() < delete_share:
        factory.delete(sale, min(sale.updated_at + rng.randrange(60, 3 * 86_400), latest))
    return sale
