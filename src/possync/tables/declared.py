"""What each source syncs: its tables in sync order, the child entities written with a parent,
how its business days reconcile, and what the nightly deep pass reads in full.

Pure declarations (no HTTP, no database): `possync.sources.registry` pairs each with its API
client, and settings check entity names against them.
"""

from __future__ import annotations

from possync.tables import lightspeed, square
from possync.tables.spec import SourceTables

LIGHTSPEED = SourceTables(
    "lightspeed",
    lightspeed.TABLES,
    child_entities={"sales": ("sale_line_items", "sale_payments")},
    reconcile=lightspeed.RECONCILE,
)

SQUARE = SourceTables(
    "square",
    square.TABLES,
    child_entities={"orders": ("order_line_items",)},
    reconcile=square.RECONCILE,
    # Square's incremental catalog search can miss deletions: the deep pass lists it whole.
    deep_pass_entities=("categories", "catalog_items", "catalog_item_variations"),
)

# In the order sources are listed (dashboard, `possync status`, alerts).
DECLARED_TABLES: tuple[SourceTables, ...] = (LIGHTSPEED, SQUARE)
