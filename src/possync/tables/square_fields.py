"""Column helpers shared by the Square table declarations: Money objects and nested paths."""

from __future__ import annotations

from typing import Any

from possync.tables.spec import Column, Extractor


def path_value(record: dict[str, Any], path: str) -> Any:
    """The value at a dotted `path` of a payload; None where the path breaks off."""
    value: Any = record
    for key in path.split("."):
        value = value.get(key) if isinstance(value, dict) else None
    return value


def first_of(list_path: str, key: str, fallback: str | None = None) -> Extractor:
    """`key` of the first object in a nested list (an item's first category, a return
    order's source order), else the value at `fallback`."""

    def extract(record: dict[str, Any], _parent: dict[str, Any] | None) -> Any:
        items = path_value(record, list_path)
        if isinstance(items, list) and items and isinstance(items[0], dict):
            return items[0].get(key)
        return path_value(record, fallback) if fallback else None

    return extract


def money_column(name: str, path: str | None = None, *, required: bool = False) -> Column:
    """An integer minor-units column from a Money object's `amount`."""
    return Column(name, "bigint", path=f"{path or name}.amount", required=required)
