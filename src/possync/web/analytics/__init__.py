"""The business pages (Sales, Products, Stock), their JSON endpoints and CSV downloads.

Figures are defined by the views of migration 0011 and read from the rollups of 0012 (kept
current by the sync); definitions are in docs/analytics.md and next to each figure on the
pages. Everything is for the configured database and schema; the readers
take the connection (and so the schema) from the caller, ready for one shop at a time.
"""

from possync.web.analytics.views import blueprint

__all__ = ["blueprint"]
