"""Square API: locations, catalog, customers, orders, inventory, payments and refunds,
declared as streams on the shared sync engine."""

from possync.sources.square.source import SquareSource

__all__ = ["SquareSource"]
