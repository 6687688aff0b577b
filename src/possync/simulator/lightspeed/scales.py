"""How big each simulated Lightspeed store is, and how busy it is after time travel."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class OutletPlan:
    """A physical store: name, IANA time zone, tax, whether shelf prices include tax."""

    name: str
    time_zone: str
    city: str
    country: str
    tax_name: str
    tax_rate_basis_points: int
    tax_inclusive: bool
    prefix: str


OUTLET_PLANS = (
    OutletPlan("Auckland", "Pacific/Auckland", "Auckland", "NZ", "GST", 1500, True, "AKL"),
    OutletPlan("New York", "America/New_York", "New York", "US", "NY Sales Tax", 888, False, "NYC"),
    OutletPlan("London", "Europe/London", "London", "GB", "VAT", 2000, True, "LDN"),
    OutletPlan(
        "Los Angeles", "America/Los_Angeles", "Los Angeles", "US", "CA Sales Tax", 950, False, "LAX"
    ),
    OutletPlan("Sydney", "Australia/Sydney", "Sydney", "AU", "AU GST", 1000, True, "SYD"),
)


@dataclass(frozen=True)
class ScalePlan:
    """Counts for one scale; `sales_per_hour` drives time travel."""

    outlets: int
    registers_per_outlet: int
    users: int
    brands: int
    suppliers: int
    root_categories: int
    products: int
    customers: int
    sales: int
    days: int
    sales_per_hour: int


SCALE_PLANS = {
    # "tiny" only serves extra stores of a many-store simulator (`--stores`), to keep N=200 small.
    "tiny": ScalePlan(1, 1, 3, 4, 3, 3, 60, 80, 300, 30, 4),
    "small": ScalePlan(2, 2, 6, 10, 5, 4, 200, 300, 1_500, 60, 12),
    "medium": ScalePlan(3, 2, 12, 40, 15, 6, 2_000, 5_000, 40_000, 180, 40),
    "large": ScalePlan(5, 2, 25, 100, 30, 8, 10_000, 50_000, 400_000, 365, 100),
}
