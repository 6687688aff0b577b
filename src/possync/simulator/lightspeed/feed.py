"""A versioned record feed: what a Lightspeed 2.0 list endpoint pages through.

Each record is kept pre-serialized (JSON bytes). A change appends (version, id) to an
ascending log; a page is a bisect into the log plus a scan that skips stale entries (an id
whose current version is newer), so serving a page costs O(page size), not O(store).
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass


@dataclass(slots=True)
class StoredRecord:
    """The current serialized state of one record."""

    version: int
    body: bytes
    deleted: bool


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a feed: serialized records in ascending version order."""

    bodies: list[bytes]
    min_version: int | None
    max_version: int | None


class VersionFeed:
    """Records of one entity, indexed by version. Not thread-safe: the store locks."""

    def __init__(self) -> None:
        self._versions: list[int] = []
        self._ids: list[str] = []
        self.records: dict[str, StoredRecord] = {}

    def put(self, record_id: str, version: int, body: bytes, *, deleted: bool) -> None:
        """Store a new state; `version` must exceed every version already in the feed."""
        if self._versions and version <= self._versions[-1]:
            raise ValueError("feed versions must increase")
        self._versions.append(version)
        self._ids.append(record_id)
        self.records[record_id] = StoredRecord(version, body, deleted)

    def get(self, record_id: str) -> StoredRecord | None:
        """The current state of a record, or None."""
        return self.records.get(record_id)

    def page(
        self, after: int, before: int | None, page_size: int, *, include_deleted: bool
    ) -> Page:
        """Records with after < version (< before), ascending, at most page_size of them."""
        bodies: list[bytes] = []
        first: int | None = None
        last: int | None = None
        index = bisect_right(self._versions, after)
        versions, ids, records = self._versions, self._ids, self.records
        end = len(versions)
        while index < end and len(bodies) < page_size:
            version = versions[index]
            if before is not None and version >= before:
                break
            record = records[ids[index]]
            index += 1
            if record.version != version or (record.deleted and not include_deleted):
                continue
            bodies.append(record.body)
            if first is None:
                first = version
            last = version
        return Page(bodies, first, last)

    def __len__(self) -> int:
        return len(self.records)
