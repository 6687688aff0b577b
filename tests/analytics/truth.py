"""The business figures computed independently, in Python integers, from the Lightspeed
simulator's own sales (not from what it served or what possync stored)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import orjson

from possync.simulator.lightspeed.state import LightspeedState

FINISHED = {
    "CLOSED",
    "ONACCOUNT_CLOSED",
    "LAYBY_CLOSED",
    "DISPATCHED_CLOSED",
    "PICKED_UP_CLOSED",
    "SERVICE_CLOSED",
}


def cents(value: int) -> Decimal:
    return Decimal(value) / 100


def line_units(value: int) -> Decimal:
    return Decimal(value) / 100_000


def counted_sales(state: LightspeedState) -> list[Any]:
    """Finished, not deleted, well-formed sales."""
    return [
        s
        for s in state.sales.values()
        if s.status in FINISHED and s.deleted_at is None and not s.malformed
    ]


def local_time(state: LightspeedState, sale: Any) -> datetime:
    zone = ZoneInfo(state.catalog.outlets[sale.outlet].plan.time_zone)
    return datetime.fromtimestamp(sale.sale_date, zone)


def daily_truth(state: LightspeedState) -> dict[tuple[str, str], dict[str, Any]]:
    """(date, outlet id) → count, return count and money in cents (Decimal)."""
    days: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for sale in counted_sales(state):
        key = (local_time(state, sale).date().isoformat(), state.catalog.outlets[sale.outlet].id)
        day = days[key]
        net, tax, discount = sale.total_price_cents, sale.total_tax_cents, sale.total_discount_cents
        returned = -net if sale.return_for else 0
        day["return_count" if sale.return_for else "sales_count"] += 1
        day["net_sales"] += net
        day["tax"] += tax
        day["discounts"] += discount
        day["returns"] += returned
        day["gross_sales"] += net + discount + returned
        day["total_collected"] += net + tax
        if not sale.return_for:
            day["basket"] += net
    return {
        key: {
            "sales_count": d["sales_count"],
            "return_count": d["return_count"],
            **{
                k: cents(d[k])
                for k in (
                    "net_sales",
                    "tax",
                    "discounts",
                    "returns",
                    "gross_sales",
                    "total_collected",
                )
            },
            "basket": d["basket"],
        }
        for key, d in days.items()
    }


def breakdown_truth(state: LightspeedState) -> dict[str, dict[str, tuple[int, Decimal]]]:
    """By hour ("HH:00"), payment type name and user display name: (count, amount)."""
    hours: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    payments: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    users: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    user_names = {uid: r["display_name"] for uid, r in state.records["users"].items()}
    for sale in counted_sales(state):
        is_sale = 0 if sale.return_for else 1
        hour = hours[f"{local_time(state, sale).hour:02d}:00"]
        hour[0] += is_sale
        hour[1] += sale.total_price_cents
        user = users[user_names.get(sale.user_id) or sale.user_id]
        user[0] += is_sale
        user[1] += sale.total_price_cents
        for payment in sale.payments:
            if payment.deleted_at is None:
                entry = payments[state.catalog.payment_types[payment.payment_type][2]]
                entry[0] += 1
                entry[1] += payment.amount_cents
    return {
        name: {label: (c, cents(amount)) for label, (c, amount) in table.items()}
        for name, table in (("hour", hours), ("payment", payments), ("user", users))
    }


def product_truth(
    state: LightspeedState, sales: list[Any] | None = None
) -> dict[str, dict[str, Decimal]]:
    """Product id → units, net sales and cost (exact, 1e-5 units) over `sales` (default:
    every counted sale)."""
    products: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for sale in counted_sales(state) if sales is None else sales:
        for line in sale.lines:
            entry = products[line.product_id]
            entry[0] += line.quantity
            entry[1] += line.price * line.quantity
            entry[2] += line.cost * line.quantity
    return {
        pid: {"units": Decimal(u), "net_sales": line_units(n), "cost": line_units(c)}
        for pid, (u, n, c) in products.items()
    }


def square_product_truth(sim: Any, *, returns: bool = True) -> dict[str, dict[str, Decimal]]:
    """Square's products ("name · variation") → units and net sales in cents over completed
    orders: items sold (gross − discount) less items returned (gross returned − discount
    given back), read from the simulator's own orders."""
    store: Any = sim.simulator.apis["square"]  # the in-process SquareStore
    data = store.data
    products: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for order in data.orders.values():
        if order.state != "COMPLETED" or order.id in data.malformed["orders"]:
            continue
        document = orjson.loads(order.json)
        for line in document.get("line_items") or []:
            entry = products[_square_label(line)]
            entry[0] += Decimal(line["quantity"])
            entry[1] += _minor(line, "gross_sales_money") - _minor(line, "total_discount_money")
        for returned in document.get("returns") or [] if returns else []:
            for line in returned.get("return_line_items") or []:
                entry = products[_square_label(line)]
                entry[0] -= Decimal(line["quantity"])
                entry[1] -= _minor(line, "gross_return_money") - _minor(
                    line, "total_discount_money"
                )
    return {label: {"units": u, "net_sales": net} for label, (u, net) in products.items()}


def _square_label(line: dict[str, Any]) -> str:
    variation = line.get("variation_name")
    return f"{line['name']} · {variation}" if variation else str(line["name"])


def _minor(line: dict[str, Any], field: str) -> int:
    return int((line.get(field) or {}).get("amount") or 0)


def square_team_member_truth(sim: Any) -> dict[str, tuple[int, int]]:
    """Square team member id ("No user" when none) → (sales, net sales in cents) over
    completed orders. An order's team member is the one on its first completed payment (as
    stored: malformed payments are quarantined), a return order's the one on its refund."""
    store: Any = sim.simulator.apis["square"]  # the in-process SquareStore
    data = store.data
    first_payer: dict[str, tuple[str, str, str]] = {}
    for kind, records in (("payment", data.payments), ("refund", data.refunds)):
        for record in records.values():
            if record.id in data.malformed.get(f"{kind}s", {}):
                continue
            doc = orjson.loads(record.json)
            if kind == "payment" and doc["status"] != "COMPLETED":
                continue
            key = (doc["created_at"], doc["id"], doc.get("team_member_id") or "No user")
            order_id = doc.get("order_id")
            if order_id and (order_id not in first_payer or key < first_payer[order_id]):
                first_payer[order_id] = key
    members: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for order in data.orders.values():
        if order.state != "COMPLETED" or order.id in data.malformed["orders"]:
            continue
        doc = orjson.loads(order.json)
        member = members[first_payer.get(order.id, ("", "", "No user"))[2]]
        returned = doc.get("return_amounts")
        if returned:
            member[1] -= _minor(returned, "total_money") - _minor(returned, "tax_money")
        else:
            member[0] += 1
            member[1] += _minor(doc, "total_money") - _minor(doc, "total_tax_money")
            member[1] -= _minor(doc, "total_tip_money") + _minor(doc, "total_service_charge_money")
    return {label: (count, cents) for label, (count, cents) in members.items()}
