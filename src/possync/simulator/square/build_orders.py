"""Order documents: sales (line items, taxes, discounts, tenders) and return orders.

All money is integer cents. Per line: gross = price × quantity, the order discount is applied
per line, tax is computed on the discounted amount (half up), total = gross − discount + tax.
The order's totals are the sums of its lines, plus the tip in `total_money`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from possync.simulator.square.common import format_ms, mixed_id, money


@dataclass(slots=True)
class Sellable:
    """What an order line needs to know about a catalog variation."""

    variation_id: str
    item_name: str
    variation_name: str
    price: int
    catalog_version: int
    tax_id: str
    tax_name: str
    tax_percentage: str
    tax_version: int


@dataclass(slots=True)
class PaymentPlan:
    """One tender of a sale: the payment that settles (part of) it."""

    payment_id: str
    source_type: str
    amount: int
    tip: int
    created_ms: int
    card_brand: str = "VISA"
    last_4: str = "1111"
    entry_method: str = "EMV"


def percentage_parts(percentage: str) -> int:
    """A tax percentage like "8.875" in thousandths of a percent (8875)."""
    whole, _, frac = percentage.partition(".")
    return int(whole) * 1000 + int((frac + "000")[:3])


def line_amounts(price: int, quantity: int, discount_pct: int, tax_pct: str) -> tuple[int, ...]:
    """(gross, discount, tax, total) of one line, in cents."""
    gross = price * quantity
    discount = (gross * discount_pct + 50) // 100
    tax = ((gross - discount) * percentage_parts(tax_pct) + 50_000) // 100_000
    return gross, discount, tax, gross - discount + tax


def build_line_item(
    rng: random.Random,
    sellable: Sellable,
    quantity: int,
    discount_pct: int,
    tax_uid: str,
    discount_uid: str | None,
) -> dict[str, Any]:
    """One OrderLineItem with its applied tax (and discount)."""
    gross, discount, tax, total = line_amounts(
        sellable.price, quantity, discount_pct, sellable.tax_percentage
    )
    line: dict[str, Any] = {
        "uid": mixed_id(rng, 22),
        "name": sellable.item_name,
        "quantity": str(quantity),
        "catalog_object_id": sellable.variation_id,
        "catalog_version": sellable.catalog_version,
        "variation_name": sellable.variation_name,
        "item_type": "ITEM",
        "applied_taxes": [
            {"uid": mixed_id(rng, 22), "tax_uid": tax_uid, "applied_money": money(tax)}
        ],
        "base_price_money": money(sellable.price),
        "variation_total_price_money": money(gross),
        "gross_sales_money": money(gross),
        "total_tax_money": money(tax),
        "total_discount_money": money(discount),
        "total_money": money(total),
        "total_service_charge_money": money(0),
    }
    if discount_uid is not None:
        line["applied_discounts"] = [
            {
                "uid": mixed_id(rng, 22),
                "discount_uid": discount_uid,
                "applied_money": money(discount),
            }
        ]
    return line


def build_sale(
    rng: random.Random,
    *,
    order_id: str,
    location_id: str,
    source_name: str,
    customer_id: str | None,
    lines: list[tuple[Sellable, int]],
    discount_pct: int,
    created_ms: int,
) -> dict[str, Any]:
    """An OPEN sale order; `close_sale` completes or cancels it."""
    tax_uids: dict[str, str] = {}
    taxes: dict[str, dict[str, Any]] = {}
    for sellable, _ in lines:
        if sellable.tax_id not in taxes:
            tax_uids[sellable.tax_id] = uid = mixed_id(rng, 22)
            taxes[sellable.tax_id] = {
                "uid": uid,
                "catalog_object_id": sellable.tax_id,
                "catalog_version": sellable.tax_version,
                "name": sellable.tax_name,
                "percentage": sellable.tax_percentage,
                "type": "ADDITIVE",
                "scope": "LINE_ITEM",
            }
    discount_uid = mixed_id(rng, 22) if discount_pct else None
    line_items = [
        build_line_item(rng, s, q, discount_pct, tax_uids[s.tax_id], discount_uid) for s, q in lines
    ]
    order: dict[str, Any] = {
        "id": order_id,
        "location_id": location_id,
        "source": {"name": source_name},
        "line_items": line_items,
        "taxes": list(taxes.values()),
        "created_at": format_ms(created_ms),
        "updated_at": format_ms(created_ms),
        "state": "OPEN",
    }
    if customer_id is not None:
        order["customer_id"] = customer_id
    if discount_uid is not None:
        order["discounts"] = [
            {
                "uid": discount_uid,
                "name": f"{discount_pct}% Off",
                "percentage": str(discount_pct),
                "type": "FIXED_PERCENTAGE",
                "scope": "ORDER",
            }
        ]
    recompute_totals(order, tip=0)
    return order


def add_line(rng: random.Random, order: dict[str, Any], sellable: Sellable, quantity: int) -> None:
    """Add a line to an OPEN order (an edit at the register), keeping taxes consistent."""
    taxes = order.setdefault("taxes", [])
    tax = next((t for t in taxes if t["catalog_object_id"] == sellable.tax_id), None)
    if tax is None:
        tax = {
            "uid": mixed_id(rng, 22),
            "catalog_object_id": sellable.tax_id,
            "catalog_version": sellable.tax_version,
            "name": sellable.tax_name,
            "percentage": sellable.tax_percentage,
            "type": "ADDITIVE",
            "scope": "LINE_ITEM",
        }
        taxes.append(tax)
    discounts = order.get("discounts") or []
    discount_pct = int(discounts[0]["percentage"]) if discounts else 0
    discount_uid = discounts[0]["uid"] if discounts else None
    order["line_items"].append(
        build_line_item(rng, sellable, quantity, discount_pct, tax["uid"], discount_uid)
    )
    recompute_totals(order, tip=order["total_tip_money"]["amount"])


def recompute_totals(order: dict[str, Any], tip: int) -> None:
    """Set order-level totals, tax and discount applied money from the lines."""
    lines = order.get("line_items") or []
    tax_total = sum(line["total_tax_money"]["amount"] for line in lines)
    discount_total = sum(line["total_discount_money"]["amount"] for line in lines)
    line_total = sum(line["total_money"]["amount"] for line in lines)
    for tax in order.get("taxes") or []:
        tax["applied_money"] = money(
            sum(
                applied["applied_money"]["amount"]
                for line in lines
                for applied in line["applied_taxes"]
                if applied["tax_uid"] == tax["uid"]
            )
        )
    for discount in order.get("discounts") or []:
        discount["applied_money"] = money(discount_total)
    total = line_total + tip
    order["total_money"] = money(total)
    order["total_tax_money"] = money(tax_total)
    order["total_discount_money"] = money(discount_total)
    order["total_tip_money"] = money(tip)
    order["total_service_charge_money"] = money(0)
    order["net_amounts"] = {
        "total_money": money(total),
        "tax_money": money(tax_total),
        "discount_money": money(discount_total),
        "tip_money": money(tip),
        "service_charge_money": money(0),
    }
    paid = order.get("state") == "COMPLETED"
    order["net_amount_due_money"] = money(0 if paid else total)


def complete_sale(
    order: dict[str, Any],
    plans: list[PaymentPlan],
    tip: int,
    closed_ms: int,
    device_closed_ms: int | None = None,
) -> None:
    """Pay and complete an order: tenders, tip, closed_at (the device time when offline)."""
    order["state"] = "COMPLETED"
    recompute_totals(order, tip)
    order["tenders"] = [tender(order, plan) for plan in plans]
    order["closed_at"] = format_ms(device_closed_ms if device_closed_ms else closed_ms)
    order["updated_at"] = format_ms(closed_ms)


def cancel_sale(order: dict[str, Any], closed_ms: int) -> None:
    """Cancel an OPEN order."""
    order["state"] = "CANCELED"
    order["closed_at"] = format_ms(closed_ms)
    order["updated_at"] = format_ms(closed_ms)


def tender(order: dict[str, Any], plan: PaymentPlan) -> dict[str, Any]:
    """The Tender recorded on the order for one payment."""
    doc: dict[str, Any] = {
        "id": plan.payment_id,
        "location_id": order["location_id"],
        "transaction_id": order["id"],
        "created_at": format_ms(plan.created_ms),
        "amount_money": money(plan.amount),
        "type": plan.source_type,
        "payment_id": plan.payment_id,
    }
    if plan.tip:
        doc["tip_money"] = money(plan.tip)
    if order.get("customer_id"):
        doc["customer_id"] = order["customer_id"]
    if plan.source_type == "CARD":
        doc["card_details"] = {
            "status": "CAPTURED",
            "card": {"card_brand": plan.card_brand, "last_4": plan.last_4},
            "entry_method": plan.entry_method,
        }
    else:
        tendered = -(-plan.amount // 500) * 500
        doc["cash_details"] = {
            "buyer_tendered_money": money(tendered),
            "change_back_money": money(tendered - plan.amount),
        }
    return doc


def build_return(
    rng: random.Random,
    *,
    return_id: str,
    sale: dict[str, Any],
    returned: list[tuple[dict[str, Any], int]],
    created_ms: int,
    version: int | None,
) -> dict[str, Any]:
    """A COMPLETED return order pointing at `sale` via returns[].source_order_id.

    `returned` holds (sale line item, quantity returned). Tax and discount are prorated.
    The return order sells nothing, so its own totals are zero and its net is negative.
    """
    tax_by_uid = {t["uid"]: t for t in sale.get("taxes") or []}
    return_lines: list[dict[str, Any]] = []
    return_taxes: dict[str, dict[str, Any]] = {}
    totals = {"total": 0, "tax": 0, "discount": 0}
    for line, quantity in returned:
        sold = int(line["quantity"])
        gross = line["base_price_money"]["amount"] * quantity
        discount = line["total_discount_money"]["amount"] * quantity // sold
        tax = line["total_tax_money"]["amount"] * quantity // sold
        total = gross - discount + tax
        totals["total"] += total
        totals["tax"] += tax
        totals["discount"] += discount
        source_tax = tax_by_uid[line["applied_taxes"][0]["tax_uid"]]
        return_tax = return_taxes.get(source_tax["uid"])
        if return_tax is None:
            return_tax = return_taxes[source_tax["uid"]] = {
                "uid": mixed_id(rng, 22),
                "source_tax_uid": source_tax["uid"],
                "catalog_object_id": source_tax["catalog_object_id"],
                "name": source_tax["name"],
                "percentage": source_tax["percentage"],
                "type": "ADDITIVE",
                "scope": "LINE_ITEM",
                "applied_money": money(0),
            }
        return_tax["applied_money"] = money(return_tax["applied_money"]["amount"] + tax)
        return_lines.append(
            {
                "uid": mixed_id(rng, 22),
                "source_line_item_uid": line["uid"],
                "name": line["name"],
                "quantity": str(quantity),
                "catalog_object_id": line["catalog_object_id"],
                "catalog_version": line["catalog_version"],
                "variation_name": line["variation_name"],
                "item_type": "ITEM",
                "base_price_money": line["base_price_money"],
                "variation_total_price_money": money(gross),
                "gross_return_money": money(gross),
                "total_tax_money": money(tax),
                "total_discount_money": money(discount),
                "total_money": money(total),
                "total_service_charge_money": money(0),
            }
        )
    return_amounts = {
        "total_money": money(totals["total"]),
        "tax_money": money(totals["tax"]),
        "discount_money": money(totals["discount"]),
        "tip_money": money(0),
        "service_charge_money": money(0),
    }
    order: dict[str, Any] = {
        "id": return_id,
        "location_id": sale["location_id"],
        "source": sale["source"],
        "returns": [
            {
                "uid": mixed_id(rng, 22),
                "source_order_id": sale["id"],
                "return_line_items": return_lines,
                "return_taxes": list(return_taxes.values()),
                "return_amounts": return_amounts,
            }
        ],
        "return_amounts": return_amounts,
        "net_amounts": {
            "total_money": money(-totals["total"]),
            "tax_money": money(-totals["tax"]),
            "discount_money": money(-totals["discount"]),
            "tip_money": money(0),
            "service_charge_money": money(0),
        },
        "created_at": format_ms(created_ms),
        "updated_at": format_ms(created_ms),
        "closed_at": format_ms(created_ms),
        "state": "COMPLETED",
        "total_money": money(0),
        "total_tax_money": money(0),
        "total_discount_money": money(0),
        "total_tip_money": money(0),
        "total_service_charge_money": money(0),
        "net_amount_due_money": money(0),
    }
    if sale.get("customer_id"):
        order["customer_id"] = sale["customer_id"]
    if version is not None:
        order["version"] = version
    return order


def order_refund_entry(
    refund_id: str, return_order: dict[str, Any], sale: dict[str, Any], payment_id: str
) -> dict[str, Any]:
    """The Refund recorded on the return order."""
    return {
        "id": refund_id,
        "location_id": return_order["location_id"],
        "transaction_id": sale["id"],
        "tender_id": payment_id,
        "created_at": return_order["created_at"],
        "reason": "Returned goods",
        "amount_money": return_order["return_amounts"]["total_money"],
        "status": "APPROVED",
    }
