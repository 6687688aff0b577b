"""PostgreSQL COPY text format, built on the validating thread.

The loader then streams one buffer per table and page (`copy.write`), which holds the GIL only
briefly, so the writer thread and validation of the next page overlap for real.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

COPY_NULL = "\\N"
_ESCAPES = str.maketrans({"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"})


def copy_value(value: Any) -> str:
    """One value in COPY text form (`\\N` is NULL)."""
    if value is None:
        return COPY_NULL
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, str):
        if "\\" in value or "\n" in value or "\r" in value or "\t" in value:
            return value.translate(_ESCAPES)
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, int | Decimal):
        return str(value)
    raise TypeError(f"cannot COPY a {type(value).__name__}")


def copy_lines(rows: Iterable[tuple[Any, ...]]) -> bytes:
    """Rows as one COPY text buffer."""
    return "".join("\t".join([copy_value(v) for v in row]) + "\n" for row in rows).encode("utf-8")
