"""Making sales: lines with discounts and tax, returns, and payments that fit the status.

Shared by history generation and time travel, so both make the same kinds of sales.
"""

from __future__ import annotations

import random
import string

from possync.simulator.lightspeed.catalog import Catalog
from possync.simulator.lightspeed.products import Sellable
from possync.simulator.lightspeed.sales import OPENED_AS, Line, Sale, SalePayment
from possync.simulator.lightspeed.values import CENTS_PER_LINE_UNIT, new_id, tax_units

LINE_COUNT_WEIGHTS = (25, 25, 20, 15, 15)  # 1..5 lines; mean 2.7
SHORT_CODE_ALPHABET = string.ascii_letters + string.digits
FULLY_PAID_WHEN_OPEN = {"AWAITING_DISPATCH", "AWAITING_PICKUP"}


class SaleFactory:
    """Builds new sales for a store's catalog."""

    def __init__(
        self,
        catalog: Catalog,
        sellables: list[Sellable],
        discount_product_id: str,
        walk_in_customers: list[str],
        named_customers: list[str],
    ) -> None:
        self.catalog = catalog
        self.sellables = sellables
        self.discount_product_id = discount_product_id
        self.walk_in_customers = walk_in_customers
        self.named_customers = named_customers
        registers = catalog.records["registers"]
        self.invoice_prefix = {rid: r["invoice_prefix"] for rid, r in registers.items()}
        self.invoice_sequence = dict.fromkeys(registers, 0)
        self._payment_weights = [weight for *_, weight in catalog.payment_types]
        self._payment_indexes = list(range(len(catalog.payment_types)))

    def new_sale(
        self, rng: random.Random, outlet: int, sale_date: int, created_at: int, status: str
    ) -> Sale:
        """A sale with 1–5 lines, paid as its status implies (payments at `sale_date`)."""
        info = self.catalog.outlets[outlet]
        register_id = rng.choice(info.register_ids)
        rate = info.plan.tax_rate_basis_points
        lines = [self._line(rng, rate) for _ in range(self._line_count(rng))]
        if status == "CLOSED" and rng.random() < 0.01:
            refund = self._line(rng, rate)
            refund.quantity = -1  # a refund keyed in as a negative line, not a return
            lines.append(refund)
        if rng.random() < 0.03:
            lines.append(self._discount_line(rng, lines, rate))
        if rng.random() < 0.4:
            customer = self.walk_in_customers[outlet % len(self.walk_in_customers)]
        else:
            customer = rng.choice(self.named_customers)
        sale = self._sale(rng, outlet, register_id, customer, status, sale_date, created_at, lines)
        self._pay_opening(rng, sale)
        return sale

    def return_of(self, rng: random.Random, original: Sale, sale_date: int) -> Sale:
        """A CLOSED return of some of `original`'s lines: negative quantities, refunded."""
        returned = [ln for ln in original.lines if ln.quantity > 0]
        chosen = rng.sample(returned, k=rng.randrange(1, len(returned) + 1))
        lines = [
            Line(new_id(rng), ln.product_id, -ln.quantity, ln.price, ln.discount, ln.tax, ln.cost)
            for ln in chosen
        ]
        for line in lines:
            line.is_return = True
        sale = self._sale(
            rng,
            original.outlet,
            original.register_id,
            original.customer_id,
            "CLOSED",
            sale_date,
            sale_date,
            lines,
        )
        sale.return_for = original.id
        original.return_ids.append(sale.id)
        self._pay(rng, sale, sale.amount_due_cents, sale_date)
        return sale

    def close(self, rng: random.Random, sale: Sale, status: str, when: int) -> None:
        """Move an open sale to its closed status and take the balance."""
        sale.status = status
        balance = sale.amount_due_cents - sum(p.amount_cents for p in sale.payments)
        if balance:
            self._pay(rng, sale, balance, when)
        sale.updated_at = when

    def void(self, sale: Sale, when: int) -> None:
        """Void a sale: its payments are deleted."""
        sale.status = "VOIDED"
        for payment in sale.payments:
            payment.deleted_at = when
        sale.updated_at = when

    def delete(self, sale: Sale, when: int) -> None:
        """Delete a sale (it stays visible in /sales with deleted_at)."""
        sale.deleted_at = when
        for payment in sale.payments:
            if payment.deleted_at is None:
                payment.deleted_at = when
        sale.updated_at = when

    def _line_count(self, rng: random.Random) -> int:
        return rng.choices((1, 2, 3, 4, 5), weights=LINE_COUNT_WEIGHTS)[0]

    def _line(self, rng: random.Random, rate: int) -> Line:
        # Squaring skews sales toward the first products: a few best sellers, a long tail.
        product = self.sellables[int(len(self.sellables) * rng.random() ** 2)]
        roll = rng.random()
        quantity = 1 if roll < 0.85 else 2 if roll < 0.95 else 3
        discount = 0
        if rng.random() < 0.15:
            percent = rng.choice((10, 15, 20))
            discount = product.price_units * percent // 100 // CENTS_PER_LINE_UNIT
            discount *= CENTS_PER_LINE_UNIT  # whole cents, so discount totals are exact
        price = product.price_units - discount
        return Line(
            new_id(rng),
            product.id,
            quantity,
            price,
            discount,
            tax_units(price, rate),
            product.cost_units,
        )

    def _discount_line(self, rng: random.Random, lines: list[Line], rate: int) -> Line:
        subtotal = sum(ln.price * ln.quantity for ln in lines)
        amount = max(subtotal * 5 // 100 // CENTS_PER_LINE_UNIT, 1) * CENTS_PER_LINE_UNIT
        price = -amount
        return Line(new_id(rng), self.discount_product_id, 1, price, 0, tax_units(price, rate), 0)

    def _sale(
        self,
        rng: random.Random,
        outlet: int,
        register_id: str,
        customer_id: str,
        status: str,
        sale_date: int,
        created_at: int,
        lines: list[Line],
    ) -> Sale:
        self.invoice_sequence[register_id] += 1
        sequence = self.invoice_sequence[register_id]
        return Sale(
            id=new_id(rng),
            outlet=outlet,
            register_id=register_id,
            user_id=rng.choice(self.catalog.user_ids),
            customer_id=customer_id,
            invoice_sequence=sequence,
            invoice_number=f"{self.invoice_prefix[register_id]}{sequence}",
            short_code="".join(rng.choices(SHORT_CODE_ALPHABET, k=6)),
            status=status,
            sale_date=sale_date,
            created_at=created_at,
            updated_at=created_at,
            lines=lines,
        )

    def _pay_opening(self, rng: random.Random, sale: Sale) -> None:
        """Payments taken when the sale was rung up, by the status it opened with."""
        opened = OPENED_AS.get(sale.status, sale.status)
        due = sale.amount_due_cents
        if opened in ("CLOSED", "VOIDED") or opened in FULLY_PAID_WHEN_OPEN:
            self._pay(rng, sale, due, sale.sale_date, split=rng.random() < 0.1)
        elif opened in ("LAYBY", "SERVICE") and due > 0:
            self._pay(rng, sale, due * rng.choice((10, 20, 30)) // 100, sale.sale_date)

    def _pay(
        self, rng: random.Random, sale: Sale, amount: int, when: int, *, split: bool = False
    ) -> None:
        if amount == 0:
            return
        parts = [amount]
        if split and abs(amount) > 100:
            first = amount * rng.randrange(20, 80) // 100
            parts = [first, amount - first]
        for part in parts:
            kind = rng.choices(self._payment_indexes, weights=self._payment_weights)[0]
            sale.payments.append(SalePayment(new_id(rng), kind, part, when))
