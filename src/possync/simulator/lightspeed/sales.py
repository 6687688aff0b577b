"""Sales held compactly (integers for money and time) and serialized as API 2.0 `Sale`.

Totals always follow from the lines: `total_price` = sum of line `price_total` rounded to
cents (tax exclusive), `total_tax` likewise, and a paid sale's payments add up to
`total_price + total_tax`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from possync.simulator.lightspeed.catalog import OutletInfo
from possync.simulator.lightspeed.values import (
    cents_to_number,
    line_units_to_number,
    round_line_units_to_cents,
    serialize,
    timestamp_from_epoch,
)

SALE_STATUSES = (
    "SAVED",
    "CLOSED",
    "ONACCOUNT",
    "LAYBY",
    "ONACCOUNT_CLOSED",
    "LAYBY_CLOSED",
    "AWAITING_DISPATCH",
    "AWAITING_PICKUP",
    "DISPATCHED_CLOSED",
    "PICKED_UP_CLOSED",
    "VOIDED",
    "SERVICE",
    "SERVICE_CLOSED",
)
# Lightspeed's newer state/attributes model for each legacy status.
STATE_OF: dict[str, tuple[str, list[str]]] = {
    "SAVED": ("parked", []),
    "CLOSED": ("closed", []),
    "ONACCOUNT": ("pending", ["onaccount"]),
    "ONACCOUNT_CLOSED": ("closed", ["onaccount"]),
    "LAYBY": ("pending", ["layby"]),
    "LAYBY_CLOSED": ("closed", ["layby"]),
    "AWAITING_DISPATCH": ("pending", ["delivery"]),
    "DISPATCHED_CLOSED": ("closed", ["delivery"]),
    "AWAITING_PICKUP": ("pending", ["pickup"]),
    "PICKED_UP_CLOSED": ("closed", ["pickup"]),
    "SERVICE": ("pending", ["service"]),
    "SERVICE_CLOSED": ("closed", ["service"]),
    "VOIDED": ("voided", []),
}
# The open status a sale had before it reached each closed one.
OPENED_AS = {
    "ONACCOUNT_CLOSED": "ONACCOUNT",
    "LAYBY_CLOSED": "LAYBY",
    "DISPATCHED_CLOSED": "AWAITING_DISPATCH",
    "PICKED_UP_CLOSED": "AWAITING_PICKUP",
    "SERVICE_CLOSED": "SERVICE",
}
CLOSES_AS = {opened: closed for closed, opened in OPENED_AS.items()}
MALFORMATIONS = ("missing_id", "missing_outlet_id", "non_numeric_total")


@dataclass(slots=True)
class Line:
    """A sale line. Unit amounts in 1e-5 units, ex tax; `price` is after the unit discount."""

    id: str
    product_id: str
    quantity: int
    price: int
    discount: int
    tax: int
    cost: int
    is_return: bool = False


@dataclass(slots=True)
class SalePayment:
    """A payment (negative for refunds); deleted when its sale is voided or deleted."""

    id: str
    payment_type: int
    amount_cents: int
    paid_at: int
    deleted_at: int | None = None


@dataclass(slots=True)
class Sale:
    """One sale; times are epoch seconds (UTC)."""

    id: str
    outlet: int
    register_id: str
    user_id: str
    customer_id: str
    invoice_sequence: int
    invoice_number: str
    short_code: str
    status: str
    sale_date: int
    created_at: int
    updated_at: int
    lines: list[Line]
    payments: list[SalePayment] = field(default_factory=list)
    deleted_at: int | None = None
    return_for: str | None = None
    return_ids: list[str] = field(default_factory=list)
    version: int = 0
    malformed: str | None = None

    @property
    def total_price_cents(self) -> int:
        """Tax-exclusive total, rounded to cents from the exact line sum."""
        return round_line_units_to_cents(sum(ln.price * ln.quantity for ln in self.lines))

    @property
    def total_tax_cents(self) -> int:
        """Total tax, rounded to cents from the exact line sum."""
        return round_line_units_to_cents(sum(ln.tax * ln.quantity for ln in self.lines))

    @property
    def total_discount_cents(self) -> int:
        """Sum of line discount totals (unit discounts are whole cents, so this is exact)."""
        return round_line_units_to_cents(sum(ln.discount * ln.quantity for ln in self.lines))

    @property
    def amount_due_cents(self) -> int:
        """What the customer pays in full: total_price + total_tax."""
        return self.total_price_cents + self.total_tax_cents


@dataclass(frozen=True)
class SaleContext:
    """Lookups a sale's JSON needs: outlets (tax) and payment types."""

    outlets: list[OutletInfo]
    payment_types: list[tuple[str, int, str, int]]


def sale_document(sale: Sale, context: SaleContext) -> dict[str, Any]:
    """The sale as the API returns it (including embedded line items and payments)."""
    outlet = context.outlets[sale.outlet]
    rate_id, tax_id = outlet.rate_id, outlet.tax_id
    line_status = {"SAVED": "SAVED", "VOIDED": "VOIDED"}.get(sale.status, "CONFIRMED")
    lines = []
    tax_units_total = 0
    for sequence, line in enumerate(sale.lines):
        quantity = line.quantity
        tax_total = line.tax * quantity
        tax_units_total += tax_total
        lines.append(
            {
                "id": line.id,
                "product_id": line.product_id,
                "tax_id": tax_id,
                "salesperson_id": sale.user_id,
                "quantity": quantity,
                "price": line.price / 100_000,
                "price_total": line.price * quantity / 100_000,
                "discount": line.discount / 100_000,
                "discount_total": line.discount * quantity / 100_000,
                "tax": line.tax / 100_000,
                "tax_total": tax_total / 100_000,
                "cost": line.cost / 100_000,
                "cost_total": line.cost * quantity / 100_000,
                "loyalty_value": 0,
                "price_set": False,
                "sequence": sequence,
                "note": None,
                "status": line_status,
                "is_return": line.is_return,
                "tax_components": [{"rate_id": rate_id, "total_tax": tax_total / 100_000}],
            }
        )
    payments = [_payment_document(sale, payment, context) for payment in sale.payments]
    total_price = sale.total_price_cents
    total_tax = sale.total_tax_cents
    state, attributes = STATE_OF[sale.status]
    document: dict[str, Any] = {
        "id": sale.id,
        "outlet_id": outlet.id,
        "register_id": sale.register_id,
        "user_id": sale.user_id,
        "customer_id": sale.customer_id,
        "invoice_number": sale.invoice_number,
        "invoice_sequence": sale.invoice_sequence,
        "receipt_number": sale.invoice_number,
        "source": "USER",
        "status": sale.status,
        "state": state,
        "note": "",
        "short_code": sale.short_code,
        "return_for": sale.return_for,
        "return_ids": sale.return_ids,
        "created_at": timestamp_from_epoch(sale.created_at),
        "updated_at": timestamp_from_epoch(sale.updated_at),
        "sale_date": timestamp_from_epoch(sale.sale_date),
        "deleted_at": None if sale.deleted_at is None else timestamp_from_epoch(sale.deleted_at),
        "version": sale.version,
        "total_price": cents_to_number(total_price),
        "total_tax": cents_to_number(total_tax),
        "total_price_incl": cents_to_number(total_price + total_tax),
        "total_loyalty": 0,
        "total_surcharge": 0,
        "line_items": lines,
        "payments": payments,
        "adjustments": [],
        "attributes": attributes,
        "taxes": [
            {
                "id": rate_id,
                "name": outlet.plan.tax_name,
                "rate": outlet.plan.tax_rate_basis_points / 10_000,
                "amount": line_units_to_number(tax_units_total),
            }
        ],
    }
    if sale.malformed is not None:
        _malform(document, sale.malformed)
    return document


def _payment_document(sale: Sale, payment: SalePayment, context: SaleContext) -> dict[str, Any]:
    type_id, global_type, name, _ = context.payment_types[payment.payment_type]
    return {
        "id": payment.id,
        "register_id": sale.register_id,
        "outlet_id": context.outlets[sale.outlet].id,
        "retailer_payment_type_id": type_id,
        "payment_type_id": str(global_type),
        "name": name,
        "amount": cents_to_number(payment.amount_cents),
        "payment_date": timestamp_from_epoch(payment.paid_at),
        "deleted_at": None
        if payment.deleted_at is None
        else timestamp_from_epoch(payment.deleted_at),
        "external_attributes": [],
    }


def _malform(document: dict[str, Any], kind: str) -> None:
    """Break a record the way bad upstream data breaks: a missing key or a non-number."""
    if kind == "missing_id":
        del document["id"]
    elif kind == "missing_outlet_id":
        del document["outlet_id"]
    else:
        document["total_price"] = "12.34 NZD"


def sale_body(sale: Sale, context: SaleContext) -> bytes:
    """The serialized sale."""
    return serialize(sale_document(sale, context))
