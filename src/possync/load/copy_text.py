"""PostgreSQL's COPY text format: the one row format validation produces (see `validate`).

Rows are built on the validating thread straight into this form; the loader then streams one
buffer per table and page (`copy.write`), which holds the interpreter lock only briefly. This
is the only place that escapes a value for COPY.
"""

from __future__ import annotations

COPY_NULL = "\\N"
_ESCAPES = str.maketrans({"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"})


def copy_text(value: str) -> str:
    """A text value as a COPY field: backslash, newline, carriage return and tab escaped."""
    if "\\" in value or "\n" in value or "\r" in value or "\t" in value:
        return value.translate(_ESCAPES)
    return value


def copy_row(fields: list[str]) -> str:
    """One row's fields (each already a COPY field, `COPY_NULL` for NULL) as a line."""
    return "\t".join(fields) + "\n"
