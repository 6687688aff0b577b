"""Small value helpers for the Lightspeed simulator: ids, timestamps and exact money.

Money is kept as integers: line values in units of 1e-5 (Lightspeed keeps 5 decimals on
lines), sale totals in cents. They become JSON numbers only when a record is serialized.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime

import orjson

LINE_SCALE = 100_000  # line values: integer units of 0.00001
CENTS_PER_LINE_UNIT = 1_000  # 0.01 / 0.00001


def new_id(rng: random.Random) -> str:
    """A 36-character hyphenated hex id; like Lightspeed's, not a valid RFC-4122 variant."""
    raw = f"{rng.getrandbits(128):032x}"
    return f"{raw[:8]}-{raw[8:12]}-{raw[12:16]}-{raw[16:20]}-{raw[20:]}"


def timestamp(instant: datetime) -> str:
    """Lightspeed's timestamp format: `YYYY-MM-DDTHH:MM:SS+00:00` in UTC."""
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def timestamp_from_epoch(seconds: int) -> str:
    """`timestamp` for an epoch second."""
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def line_units_to_number(units: int) -> float:
    """A line amount (1e-5 units) as a JSON number; its shortest repr is the exact decimal."""
    return units / LINE_SCALE


def cents_to_number(cents: int) -> float:
    """A 2-dp amount as a JSON number."""
    return cents / 100


def round_line_units_to_cents(units: int) -> int:
    """Round 1e-5 units to cents, half away from zero (as receipts do)."""
    half = CENTS_PER_LINE_UNIT // 2
    if units >= 0:
        return (units + half) // CENTS_PER_LINE_UNIT
    return -((-units + half) // CENTS_PER_LINE_UNIT)


def tax_units(price_units: int, rate_basis_points: int) -> int:
    """Tax on an ex-tax amount, to 1e-5 units, half away from zero."""
    product = price_units * rate_basis_points
    if product >= 0:
        return (product + 5_000) // 10_000
    return -((-product + 5_000) // 10_000)


def cents_to_text(cents: int) -> str:
    """Cents as a 2-dp decimal string, e.g. -1234 -> "-12.34"."""
    sign = "-" if cents < 0 else ""
    whole, frac = divmod(abs(cents), 100)
    return f"{sign}{whole}.{frac:02d}"


def serialize(document: object) -> bytes:
    """JSON bytes sized exactly: orjson's own result keeps a large buffer, and the store
    holds hundreds of thousands of these."""
    return memoryview(orjson.dumps(document)).tobytes()
