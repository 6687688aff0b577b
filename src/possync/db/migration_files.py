"""The numbered migrations shipped in the package: `sql/migrations/NNNN_name.sql`.

Read by `migrate` (which applies them) and by `grant` (which covers the tables they create), so
it sits below both.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

_FILENAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
# A migration whose first line is this creates possync's own tables (the shops registry):
# applied to the control schema only, never to a shop's schema.
CONTROL_ONLY_MARK = "-- possync: control schema only"


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql_text: str

    @property
    def control_only(self) -> bool:
        return self.sql_text.startswith(CONTROL_ONLY_MARK)


def available_migrations() -> list[Migration]:
    """Every migration shipped in the package, in order."""
    folder = resources.files("possync.db") / "sql" / "migrations"
    found = []
    for entry in folder.iterdir():
        match = _FILENAME.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise RuntimeError(f"two migrations share a number: {versions}")
    return found
