"""Money for the business pages: sums to the cent and amounts as the decimal strings the
JSON and CSV carry (minor units to currency units: `possync.money`)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def to_cents(value: Decimal | None) -> Decimal | None:
    """A sum to the cent, half away from zero (how receipts and PostgreSQL's round do it)."""
    if value is None:
        return None
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def money_text(value: Decimal | None) -> str | None:
    """A decimal string for JSON and CSV ("12.30"), or None."""
    return None if value is None else format(value, "f")


def money_display(value: Decimal | None) -> str:
    """Thousands separators for people: 12,345.60; a dash when there is no figure."""
    if value is None:
        return "—"
    return f"{value:,.2f}"
