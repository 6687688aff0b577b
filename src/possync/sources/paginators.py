"""One paginator per pagination style. Each yields `Page`s and refuses a cursor that does not
advance, so a misbehaving API can never loop us forever or make us skip records silently."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from possync.errors import PaginationError
from possync.sources.base import CursorAdvance, Page
from possync.sources.http import ApiClient
from possync.sources.shapes import (
    PageShape,
    lightspeed_categories_shape,
    lightspeed_list_shape,
    malformed,
    optional_object,
    page_records,
    required_object,
)


def walk_versions(
    client: ApiClient,
    path: str,
    *,
    after: int,
    page_size: int,
    extra_params: dict[str, Any] | None = None,
) -> Iterator[Page]:
    """Lightspeed 2.0 collections: `after` is exclusive, rows ascend by version, an empty page
    ends the walk. The next `after` is `version.max` (or the rows' highest version). An
    answer that is not such a page (see `shapes`) fails the walk: it is never an empty page."""
    shape = lightspeed_list_shape(path)
    while True:
        payload = client.get_json(
            path, {"after": after, "page_size": page_size, **(extra_params or {})}
        )
        records = page_records(payload, shape)
        version = optional_object(payload, "version", shape)
        if not records:
            return
        next_after = _page_max_version(version, records, shape)
        if next_after is None or next_after <= after:
            raise PaginationError(
                f"GET {path}: cursor did not advance (after={after}, version.max={next_after})"
            )
        yield Page(
            records=records,
            cursor=CursorAdvance(last_version=next_after),
        )
        after = next_after


def _page_max_version(
    version: dict[str, Any], records: list[dict[str, Any]], shape: PageShape
) -> int | None:
    top = version.get("max")
    if top is not None and (not isinstance(top, int) or isinstance(top, bool)):
        raise malformed(shape, f"`version.max` is {top!r}, not an integer")
    if top is not None:
        return top
    versions = [r.get("version") for r in records]
    numeric = [v for v in versions if isinstance(v, int)]
    return max(numeric) if numeric else None


def walk_id_cursor(
    client: ApiClient,
    path: str,
    *,
    page_size: int,
    list_key: str,
) -> Iterator[Page]:
    """Lightspeed product categories: `after` = the last category id seen, `page_info.has_next`
    says whether to go on. No versions, so the stream is a full snapshot every run: only a
    well-formed page may end it (`shapes`), or a bad answer would delete every category."""
    shape = lightspeed_categories_shape(path, list_key)
    after: str | None = None
    seen_cursors: set[str] = set()
    while True:
        payload = client.get_json(path, {"page_size": page_size, "after": after})
        records = page_records(payload, shape)
        info = required_object(payload, "page_info", shape)
        more = info.get("has_next")
        if not isinstance(more, bool):
            raise malformed(shape, f"`page_info.has_next` is {more!r}, not true or false")
        has_next = more and bool(records)
        next_after = info.get("last_seen")
        if has_next and (not next_after or next_after in seen_cursors):
            raise PaginationError(f"GET {path}: cursor {next_after!r} repeats or is missing")
        yield Page(
            records=list(records),
            cursor=CursorAdvance(),
            complete_snapshot=not has_next,
        )
        if not has_next:
            return
        seen_cursors.add(str(next_after))
        after = str(next_after)
