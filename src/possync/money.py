"""Money as people read it: Square's integer minor units to currency units, exactly, and
amounts with thousands separators and their currency. Used by the CLI, the money check
panel and the business pages alike."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

# ISO 4217 minor-unit exponents that are not 2 (Square's list of currencies it settles in).
MINOR_UNIT_EXPONENTS = {
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0,
    "PYG": 0, "RWF": 0, "UGX": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
    "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
}  # fmt: skip
# Square keeps money in minor units (cents); Lightspeed in currency units.
MINOR_UNITS = {"lightspeed": False, "square": True}


def minor_unit_exponent(currency: str | None) -> int:
    """Digits after the point in `currency` (2 unless ISO 4217 says otherwise)."""
    return MINOR_UNIT_EXPONENTS.get((currency or "").upper(), 2)


def minor_to_units(amount: int | None, currency: str | None) -> Decimal | None:
    """Minor units (cents for USD) to currency units, exactly: 1234 USD → 12.34."""
    if amount is None:
        return None
    return Decimal(int(amount)).scaleb(-minor_unit_exponent(currency))


def money_text(value: object, currency: str | None, minor_units: bool) -> str:
    """ "120050" (Square cents) → "1,200.50 USD"; "1200.5" (Lightspeed) → "1,200.50 NZD"."""
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value)
    digits = minor_unit_exponent(currency)
    if minor_units:
        amount = amount.scaleb(-digits)
    return f"{amount:,.{digits}f} {currency or ''}".rstrip()
