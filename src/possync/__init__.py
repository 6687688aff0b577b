"""possync: own your point-of-sale data."""

__version__ = "0.1.0"
