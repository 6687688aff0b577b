"""One paginator per pagination style. Each yields `Page`s and refuses a cursor that does not
advance, so a misbehaving API can never loop us forever or make us skip records silently."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from possync.errors import PaginationError, SourceError
from possync.sources.base import CursorAdvance, Page
from possync.sources.http import ApiClient


def walk_versions(
    client: ApiClient,
    path: str,
    *,
    after: int,
    page_size: int,
    extra_params: dict[str, Any] | None = None,
) -> Iterator[Page]:
    """Lightspeed 2.0 collections: `after` is exclusive, rows ascend by version, an empty page
    ends the walk. The next `after` is `version.max` (or the rows' highest version)."""
    while True:
        before_requests, before_retries = client.stats.requests, client.stats.retries
        payload = client.get_json(
            path, {"after": after, "page_size": page_size, **(extra_params or {})}
        )
        if not isinstance(payload, dict):
            raise SourceError(f"GET {path}: expected a JSON object, got {type(payload).__name__}")
        records = payload.get("data") or []  # a missing `data` is a legitimate empty page
        if not isinstance(records, list):
            raise SourceError(f"GET {path}: `data` is not a list")
        if not records:
            return
        next_after = _page_max_version(payload, records)
        if next_after is None or next_after <= after:
            raise PaginationError(
                f"GET {path}: cursor did not advance (after={after}, version.max={next_after})"
            )
        yield Page(
            records=records,
            cursor=CursorAdvance(last_version=next_after),
            requests=client.stats.requests - before_requests,
            retries=client.stats.retries - before_retries,
        )
        after = next_after


def _page_max_version(payload: dict[str, Any], records: list[Any]) -> int | None:
    version = payload.get("version")
    if isinstance(version, dict) and isinstance(version.get("max"), int):
        return int(version["max"])
    versions = [r.get("version") for r in records if isinstance(r, dict)]
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
    says whether to go on. No versions, so the stream is a full snapshot every run."""
    after: str | None = None
    seen_cursors: set[str] = set()
    while True:
        before_requests, before_retries = client.stats.requests, client.stats.retries
        payload = client.get_json(path, {"page_size": page_size, "after": after})
        data = payload.get("data") if isinstance(payload, dict) else None
        records = (data or {}).get(list_key) or [] if isinstance(data, dict) else []
        info = payload.get("page_info") or {} if isinstance(payload, dict) else {}
        has_next = bool(info.get("has_next")) and bool(records)
        next_after = info.get("last_seen")
        if has_next and (not next_after or next_after in seen_cursors):
            raise PaginationError(f"GET {path}: cursor {next_after!r} repeats or is missing")
        yield Page(
            records=list(records),
            cursor=CursorAdvance(),
            requests=client.stats.requests - before_requests,
            retries=client.stats.retries - before_retries,
            complete_snapshot=not has_next,
        )
        if not has_next:
            return
        seen_cursors.add(str(next_after))
        after = str(next_after)
