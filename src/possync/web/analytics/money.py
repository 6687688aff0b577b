"""Money for the business pages: Square's integer minor units to currency units, exactly,
and amounts as the decimal strings the JSON and CSV carry."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

# ISO 4217 minor-unit exponents that are not 2 (Square's list of currencies it settles in).
MINOR_UNIT_EXPONENTS = {
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0,
    "PYG": 0, "RWF": 0, "UGX": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
    "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
}  # fmt: skip
CENT = Decimal("0.01")


def minor_to_units(amount: int | None, currency: str | None) -> Decimal | None:
    """Minor units (cents for USD) to currency units, exactly: 1234 USD → 12.34."""
    if amount is None:
        return None
    exponent = MINOR_UNIT_EXPONENTS.get((currency or "").upper(), 2)
    return Decimal(int(amount)).scaleb(-exponent)


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
