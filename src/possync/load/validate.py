"""Turning API payloads into typed rows, or into a reason for quarantine.

Rows come out in one format only, PostgreSQL's COPY text (`copy_text`): what the loader
writes, and what dry runs and tests validate too.

Nothing here touches HTTP or the database. A record that fails (a missing required field, a
value of the wrong type, money that is not a number, line items that do not add up) becomes a
`Rejected` with a one-line reason; the engine stores it in `sync_quarantine` and goes on.

Money: JSON numbers arrive as floats (orjson). A float's shortest repr gives back exactly the
decimal text the API sent for up to 15 significant digits (all real POS amounts), so
`Decimal(repr(x))` is exact; we never do arithmetic on the float itself.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import InvalidOperation
from typing import Any

import orjson

from possync.load.converters import (
    BIGINT_RANGE,
    CONVERTERS,
    INT_RANGE,
    InvalidValue,
    OutOfRange,
    plain_text,
)
from possync.load.copy_text import COPY_NULL, copy_row, copy_text
from possync.load.json_values import Unreadable, first_unstorable, storable_json
from possync.tables.spec import Column, TableSpec

__all__ = ["InvalidValue", "Rejected", "ValidPage", "record_key", "validate_page"]


@dataclass
class ValidPage:
    """A page's rows ready for the loader, per table name one COPY text buffer."""

    copy_data: dict[str, bytes] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)  # rows per table
    parent_count: int = 0
    rejected: list[Rejected] = field(default_factory=list)
    accepted_ids: list[str] = field(default_factory=list)
    # Ids the accepted rows refer to, per (table, column, referenced table): counted by the
    # loader against what is stored.
    references: dict[tuple[str, str, str], list[str]] = field(default_factory=dict)

    def count(self, table: str) -> int:
        """How many rows the page holds for `table`."""
        return self.counts.get(table, 0)


@dataclass(frozen=True)
class Rejected:
    record_id: str
    reason: str
    raw: Any


def record_key(spec: TableSpec, record: Any) -> str:
    """The record's key as one string (composite keys joined by ':'), or a payload hash."""
    if isinstance(record, dict):
        parts = [record.get(part) for part in spec.key]
        if all(isinstance(p, str | int) and p != "" for p in parts):
            return ":".join(str(p) for p in parts)
    try:
        text = orjson.dumps(record, option=orjson.OPT_SORT_KEYS)
    except orjson.JSONEncodeError:  # a value from the tolerant parser
        text = storable_json(record, sort_keys=True).encode()
    digest = hashlib.sha1(text).hexdigest()[:16]
    return f"(no id) {digest}"


def validate_page(spec: TableSpec, records: Iterable[Any]) -> ValidPage:
    """Split a page into typed rows (parents and children), each built straight into COPY
    text, and rejected records."""
    page = ValidPage()
    lines: dict[str, list[str]] = {spec.table: []}
    for child in spec.children:
        lines[child.table.table] = []
    children = spec.children
    for record in records:
        try:
            parent_row = _typed_row(spec, record, None)
            items = [(child, _child_items(record, child.path)) for child in children]
            child_rows = [
                (child.table.table, _typed_row(child.table, item, record))
                for child, child_items in items
                for item in child_items
            ]
            if spec.check is not None:
                reason = spec.check(record, {})
                if reason:
                    raise InvalidValue(reason)
        except InvalidValue as exc:
            page.rejected.append(Rejected(record_key(spec, record), str(exc), record))
            continue
        lines[spec.table].append(parent_row)
        for table, row in child_rows:
            lines[table].append(row)
        page.parent_count += 1
        page.accepted_ids.append(record_key(spec, record))
        _collect_references(page, spec, [record], None)
        for child, child_items in items:
            _collect_references(page, child.table, child_items, record)
    for table, table_lines in lines.items():
        page.copy_data[table] = "".join(table_lines).encode("utf-8")
        page.counts[table] = len(table_lines)
    return page


def _collect_references(
    page: ValidPage, spec: TableSpec, records: list[Any], parent: dict[str, Any] | None
) -> None:
    for column_name, referenced in spec.references:
        read = _reference_reader(spec, column_name)
        found = page.references.setdefault((spec.table, column_name, referenced), [])
        for record in records:
            value = read(record, parent)
            if value is not None:
                found.append(value)


def _reference_reader(spec: TableSpec, column_name: str) -> ColumnReader:
    """The id a row refers to as plain text (not COPY text: it is looked up, not written),
    or None. Reference columns are text columns."""
    key = (id(spec), column_name)
    reader = _reference_readers.get(key)
    if reader is None:
        get = _value_getter(spec.column(column_name))

        def reader(record: dict[str, Any], parent: dict[str, Any] | None) -> Any:
            value = get(record, parent)
            if value is None or type(value) is str:
                return value
            return plain_text(value)

        _reference_readers[key] = reader
    return reader


def _child_items(record: dict[str, Any], path: str) -> list[Any]:
    items = record.get(path)
    if items is None:
        return []
    if not isinstance(items, list):
        raise InvalidValue(f"{path} is not a list")
    return items


def _typed_row(spec: TableSpec, record: Any, parent: dict[str, Any] | None) -> str:
    """The record as one COPY text line, its raw JSON last."""
    if not isinstance(record, dict):
        where = f"an item of {spec.table}" if parent is not None else "the record"
        raise InvalidValue(f"{where} is not a JSON object")
    values = [read(record, parent) for read in _compiled(spec)]
    try:
        raw = orjson.dumps(_without_children(spec, record)).decode()
    except orjson.JSONEncodeError:
        # A value from the tolerant parser (see possync.load.json_values) in a field no column
        # reads: the record is kept in quarantine, with that value's reason.
        raise InvalidValue(first_unstorable(record) or "cannot be stored as JSON") from None
    if "\\u0000" in raw:
        # PostgreSQL text and JSONB cannot hold NUL: quarantine rather than fail the page.
        raise InvalidValue("contains a NUL character (\\u0000), which PostgreSQL cannot store")
    values.append(copy_text(raw))
    return copy_row(values)


def _without_children(spec: TableSpec, record: dict[str, Any]) -> dict[str, Any]:
    """A parent's raw leaves out the child arrays: each child row keeps its own whole raw,
    so nothing is lost and the JSON is not stored (and parsed) twice."""
    if not spec.children:
        return record
    paths = {child.path for child in spec.children}
    return {key: value for key, value in record.items() if key not in paths}


ColumnReader = Callable[[dict[str, Any], "dict[str, Any] | None"], Any]
_compiled_specs: dict[int, tuple[TableSpec, list[ColumnReader]]] = {}
_reference_readers: dict[tuple[int, str], ColumnReader] = {}


def _compiled(spec: TableSpec) -> list[ColumnReader]:
    """One reader per column, built once per table: the per-row work is a dict lookup and a
    conversion (this loop runs for every record and line item)."""
    cached = _compiled_specs.get(id(spec))
    if cached is None or cached[0] is not spec:
        cached = (spec, [_column_reader(column) for column in spec.columns])
        _compiled_specs[id(spec)] = cached
    return cached[1]


def _value_getter(column: Column) -> ColumnReader:
    """The column's value as the payload holds it (None when missing)."""
    path, extract = column.payload_path, column.extract
    if extract is not None:
        return extract
    if len(path) == 1:
        field_name = path[0]
        return lambda record, _parent: record.get(field_name)

    def get(record: dict[str, Any], _parent: dict[str, Any] | None) -> Any:
        value: Any = record
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        return value

    return get


def _column_reader(column: Column) -> ColumnReader:
    convert = CONVERTERS[column.kind]
    name, kind, required = column.name, column.kind, column.required
    path = column.payload_path
    extract = column.extract
    get = _value_getter(column)

    def read(record: dict[str, Any], parent: dict[str, Any] | None) -> Any:
        value = get(record, parent)
        if value is None or (value == "" and (required or kind != "text")):
            if required:
                prefix = "line item " if parent is not None else ""
                raise InvalidValue(f"{prefix}{name} is missing")
            return COPY_NULL
        try:
            return convert(value)
        except OutOfRange as exc:
            raise InvalidValue(f"{name}: {_shown(value)} is {exc}") from None
        except (InvalidValue, ValueError, TypeError, InvalidOperation):
            if isinstance(value, Unreadable):
                raise InvalidValue(f"{name}: {value.reason}") from None
            reason = first_unstorable(value)
            if reason:
                raise InvalidValue(f"{name}: {reason}") from None
            raise InvalidValue(f"{name}: {_shown(value)!r} is not a valid {kind}") from None

    if extract is None and len(path) == 1:
        return _fast_copy_reader(kind, path[0], read)
    return read


def _fast_copy_reader(kind: str, key: str, general: ColumnReader) -> ColumnReader:
    """The common cases of a top-level field, in one call; anything else (missing, empty,
    another type, an error to report) goes to the general reader. This runs for millions of
    values in an import."""
    if kind == "text":

        def read_text(record: dict[str, Any], parent: dict[str, Any] | None) -> Any:
            value = record.get(key)
            if type(value) is str and value:
                return copy_text(value)
            return general(record, parent)

        return read_text
    if kind == "numeric":

        def read_numeric(record: dict[str, Any], parent: dict[str, Any] | None) -> Any:
            value = record.get(key)
            if type(value) is float:
                return repr(value)
            if type(value) is int and BIGINT_RANGE[0] <= value <= BIGINT_RANGE[1]:
                return str(value)
            return general(record, parent)

        return read_numeric
    if kind in ("bigint", "int"):
        low, high = BIGINT_RANGE if kind == "bigint" else INT_RANGE

        def read_integer(record: dict[str, Any], parent: dict[str, Any] | None) -> Any:
            value = record.get(key)
            if type(value) is int and low <= value <= high:
                return str(value)
            return general(record, parent)

        return read_integer
    if kind == "bool":

        def read_bool(record: dict[str, Any], parent: dict[str, Any] | None) -> Any:
            value = record.get(key)
            if value is True:
                return "t"
            if value is False:
                return "f"
            return general(record, parent)

        return read_bool
    return general


def _shown(value: Any) -> str:
    """A value for a one-line reason (str() refuses integers over 4,300 digits)."""
    if isinstance(value, int) and value.bit_length() > 4000:
        return f"an integer of {value.bit_length()} bits"
    return str(value)[:40]
