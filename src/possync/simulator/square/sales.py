"""Order events: sales (quick, tabs, late offline), edits, cancels, refunds with return orders.

Every handler takes the event time `at` (epoch ms): nothing it writes carries a later
`updated_at`, so time indexes only grow at their end while time moves forward.
"""

from __future__ import annotations

from typing import Any

import orjson

from possync.simulator.square.build_docs import payment_doc, refund_doc
from possync.simulator.square.build_orders import (
    PaymentPlan,
    Sellable,
    add_line,
    build_return,
    build_sale,
    cancel_sale,
    complete_sale,
    order_refund_entry,
)
from possync.simulator.square.common import (
    DAY_MS,
    HOUR_MS,
    MINUTE_MS,
    format_ms,
    key_ms,
    mixed_id,
    money,
)
from possync.simulator.square.world import World

SOURCES = ("Square Point of Sale",) * 16 + ("Square Online",) * 3 + ("Harbor & Pine App",)
CARD_BRANDS = ("VISA",) * 5 + ("MASTERCARD",) * 3 + ("AMERICAN_EXPRESS", "DISCOVER")
ENTRY_METHODS = ("EMV", "CONTACTLESS", "CONTACTLESS", "SWIPED", "KEYED")


def bump_version(doc: dict[str, Any]) -> None:
    """Orders created through the API carry a version; POS-only orders have none."""
    if "version" in doc:
        doc["version"] += 1


def pick_lines(world: World) -> list[tuple[Sellable, int]]:
    """1–4 distinct variations with small quantities."""
    rng = world.rng
    count = min(rng.choice((1, 1, 1, 2, 2, 3, 4)), len(world.alive_variations))
    chosen: dict[str, int] = {}
    while len(chosen) < count:
        variation_id = world.alive_variations[rng.randrange(len(world.alive_variations))]
        chosen[variation_id] = rng.choice((1, 1, 1, 1, 1, 2, 2, 3, 4))
    return [(world.sellables[v], q) for v, q in chosen.items()]


def new_sale(world: World, location_id: str, created_ms: int) -> dict[str, Any]:
    """An OPEN sale document (not stored yet)."""
    rng = world.rng
    order = build_sale(
        rng,
        order_id=mixed_id(rng, 27),
        location_id=location_id,
        source_name=rng.choice(SOURCES),
        customer_id=world.pick_customer(),
        lines=pick_lines(world),
        discount_pct=rng.choice((10, 15, 20)) if rng.random() < 0.12 else 0,
        created_ms=created_ms,
    )
    if rng.random() >= 0.3:
        order["version"] = 1
    return order


def plan_payments(world: World, due: int, at: int) -> tuple[list[PaymentPlan], int]:
    """How a sale is paid: card (maybe tipped), cash, or split card + cash."""
    rng = world.rng
    created = at - rng.randint(500, 3_000)

    def card(amount: int, tip: int) -> PaymentPlan:
        return PaymentPlan(
            payment_id=mixed_id(rng, 29),
            source_type="CARD",
            amount=amount,
            tip=tip,
            created_ms=created,
            card_brand=rng.choice(CARD_BRANDS),
            last_4=f"{rng.randint(0, 9999):04d}",
            entry_method=rng.choice(ENTRY_METHODS),
        )

    roll = rng.random()
    if roll < 0.05 and due >= 1_000:
        cash_part = due // 2
        cash = PaymentPlan(mixed_id(rng, 29), "CASH", cash_part, 0, created)
        return [card(due - cash_part, 0), cash], 0
    if roll < 0.30:
        return [PaymentPlan(mixed_id(rng, 29), "CASH", due, 0, created)], 0
    tip = (due * rng.choice((10, 15, 20)) + 50) // 100 if rng.random() < 0.3 else 0
    return [card(due + tip, tip)], tip


def complete_order(
    world: World, order: dict[str, Any], created_ms: int, at: int, device_ms: int | None = None
) -> None:
    """Pay, complete and store a sale with its payments; take the goods out of stock."""
    plans, tip = plan_payments(world, order["total_money"]["amount"], at)
    complete_sale(order, plans, tip, at, device_ms)
    bump_version(order)
    world.data.save_order(order, created_ms, at, device_ms if device_ms else at)
    for plan in plans:
        doc = payment_doc(world.rng, order, plan, at, offline_client_ms=device_ms)
        world.data.save_payment(doc, plan.created_ms, at)
    for line in order["line_items"]:
        move_stock(
            world, line["catalog_object_id"], order["location_id"], -int(line["quantity"]), at
        )
    world.recent_sales.append(order["id"])
    world.happened["completed_orders"] += 1


def move_stock(world: World, variation_id: str, location_id: str, delta: int, at: int) -> None:
    """Change an IN_STOCK count if the variation is tracked there; plan a restock when low."""
    count_id = f"{variation_id}:{location_id}:IN_STOCK"
    record = world.data.counts.get(count_id)
    if record is None:
        return
    quantity = record.quantity + delta
    world.data.save_count(variation_id, location_id, "IN_STOCK", quantity, at)
    world.happened["inventory_changes"] += 1
    if quantity < 3 and count_id not in world.restock_pending:
        world.restock_pending.add(count_id)
        world.schedule(at + world.rng.randint(DAY_MS // 2, 2 * DAY_MS), "restock_count", count_id)


def on_sale(world: World, at: int, location_id: str) -> None:
    """A customer walks in: most sales complete in a minute, some stay open as a tab."""
    if not world.active(location_id, at):
        return
    rng = world.rng
    if rng.random() < 0.85:
        world.schedule(at + rng.randint(20_000, 90_000), "quick_sale", f"{location_id}|{at}")
        return
    order = new_sale(world, location_id, at)
    world.data.save_order(order, at, at, None)
    world.happened["new_orders"] += 1
    close_at = at + rng.randint(10, 150) * MINUTE_MS
    if rng.random() < 0.4:
        world.schedule(at + rng.randint(1, 9) * MINUTE_MS, "add_line", order["id"])
    world.schedule(close_at, "close", order["id"])


def on_quick_sale(world: World, at: int, arg: str) -> None:
    """A sale created and paid within a minute: first seen already COMPLETED."""
    location_id, created = arg.split("|")
    created_ms = int(created)
    order = new_sale(world, location_id, created_ms)
    world.happened["new_orders"] += 1
    complete_order(world, order, created_ms, at)


def on_add_line(world: World, at: int, order_id: str) -> None:
    """An item added to an open tab (changes the totals; bumps version and updated_at)."""
    record = world.data.orders[order_id]
    if record.state != "OPEN":
        return
    order = orjson.loads(record.json)
    variation_id = world.alive_variations[world.rng.randrange(len(world.alive_variations))]
    add_line(world.rng, order, world.sellables[variation_id], 1)
    order["updated_at"] = format_ms(at)
    bump_version(order)
    world.data.save_order(order, key_ms(record.created_key), at, None)
    world.happened["order_edits"] += 1


def on_close(world: World, at: int, order_id: str) -> None:
    """A tab is paid (or, sometimes, abandoned and canceled)."""
    record = world.data.orders[order_id]
    if record.state != "OPEN":
        return
    order = orjson.loads(record.json)
    created_ms = key_ms(record.created_key)
    if world.rng.random() < 0.1:
        cancel_sale(order, at)
        bump_version(order)
        world.data.save_order(order, created_ms, at, at)
        world.happened["canceled_orders"] += 1
        return
    complete_order(world, order, created_ms, at)


def on_offline_sale(world: World, at: int, _: str) -> None:
    """A sale rung up offline hours ago reaches Square now: old created_at, fresh updated_at."""
    rng = world.rng
    location_id = world.location_ids[rng.randrange(len(world.location_ids))]
    device_ms = max(world.window_start_ms, at - rng.randint(HOUR_MS, 72 * HOUR_MS))
    if not world.active(location_id, device_ms):
        return
    order = new_sale(world, location_id, device_ms)
    world.happened["late_offline_orders"] += 1
    device_closed_ms = min(at, device_ms + rng.randint(20_000, 90_000))
    complete_order(world, order, device_ms, at, device_closed_ms)


def on_order_edit(world: World, at: int, _: str) -> None:
    """A completed sale gets a ticket name or metadata (amounts unchanged)."""
    order_id = world.pick_recent_sale()
    if order_id is None or order_id in world.data.malformed["orders"]:
        return
    record = world.data.orders[order_id]
    order = orjson.loads(record.json)
    number = world.rng.randint(1, 999)
    if world.rng.random() < 0.5:
        order["ticket_name"] = f"Ticket {number}"
    else:
        order["metadata"] = {"loyalty_points": str(number)}
    order["updated_at"] = format_ms(at)
    bump_version(order)
    world.data.save_order(order, key_ms(record.created_key), at, None)
    world.happened["order_edits"] += 1


def on_refund(world: World, at: int, _: str) -> None:
    """A customer returns goods: a return order, a PENDING refund, an updated payment."""
    sale_id = world.pick_recent_sale()
    malformed = world.data.malformed
    if sale_id is None or sale_id in world.refunded or sale_id in malformed["orders"]:
        return
    record = world.data.orders[sale_id]
    sale = orjson.loads(record.json)
    if record.state != "COMPLETED" or len(sale.get("tenders", ())) != 1:
        return
    if sale["tenders"][0]["payment_id"] in malformed["payments"]:
        return
    world.refunded.add(sale_id)
    rng = world.rng
    lines = sale["line_items"]
    if rng.random() < 0.5:
        returned = [(line, int(line["quantity"])) for line in lines]
    else:
        line = lines[rng.randrange(len(lines))]
        returned = [(line, rng.randint(1, int(line["quantity"])))]
    return_order = build_return(
        rng,
        return_id=mixed_id(rng, 27),
        sale=sale,
        returned=returned,
        created_ms=at,
        version=2 if "version" in sale else None,
    )
    payment = orjson.loads(world.data.payments[sale["tenders"][0]["payment_id"]].json)
    amount = return_order["return_amounts"]["total_money"]["amount"]
    refund_id = f"{payment['id']}_{mixed_id(rng, 40)}"
    return_order["refunds"] = [order_refund_entry(refund_id, return_order, sale, payment["id"])]
    world.data.save_order(return_order, at, at, at)
    refund = refund_doc(
        refund_id=refund_id,
        payment=payment,
        return_order_id=return_order["id"],
        amount=amount,
        created_ms=at,
        updated_ms=at,
        completed=False,
    )
    world.data.save_refund(refund, at, at)
    payment["refund_ids"] = [*payment.get("refund_ids", ()), refund_id]
    _touch_payment(world, payment, at)
    for line, quantity in returned:
        move_stock(world, line["catalog_object_id"], sale["location_id"], quantity, at)
    world.schedule(at + rng.randint(2, 30) * MINUTE_MS, "refund_complete", refund_id)
    world.happened["refunds"] += 1


def on_refund_complete(world: World, at: int, refund_id: str) -> None:
    """The card network confirms a refund: refund COMPLETED, payment's refunded_money grows."""
    record = world.data.refunds[refund_id]
    refund = orjson.loads(record.json)
    payment = orjson.loads(world.data.payments[refund["payment_id"]].json)
    completed = refund_doc(
        refund_id=refund_id,
        payment=payment,
        return_order_id=refund["order_id"],
        amount=refund["amount_money"]["amount"],
        created_ms=key_ms(record.created_key),
        updated_ms=at,
        completed=True,
    )
    world.data.save_refund(completed, key_ms(record.created_key), at)
    world.happened["refunds_completed"] += 1
    if refund["payment_id"] in world.data.malformed["payments"]:
        return
    refunded = payment.get("refunded_money", {"amount": 0})["amount"]
    payment["refunded_money"] = money(refunded + refund["amount_money"]["amount"])
    _touch_payment(world, payment, at)


def _touch_payment(world: World, payment: dict[str, Any], at: int) -> None:
    record = world.data.payments[payment["id"]]
    payment["updated_at"] = format_ms(at)
    payment["version_token"] = mixed_id(world.rng, 45)
    world.data.save_payment(payment, key_ms(record.created_key), at)
