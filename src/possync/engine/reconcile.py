"""Reconciliation: per outlet/location and local business day, the POS's own counts and money
totals against the database's.

The source fetches the POS's closed sales (or completed orders) for the window (HTTP only);
a per-source `ReconcileSpec` says how to total them and which view holds the stored totals.
The result goes to `sync_log` (action `reconcile`, differences in `metadata`) and, on a
mismatch, to the alerts.
"""

from __future__ import annotations

import time
import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import psycopg
from psycopg.types.json import Jsonb

from possync.config.settings import Settings
from possync.db.access import ensure_schema_exists
from possync.db.connection import Database
from possync.db.queries import query
from possync.errors import ConfigError
from possync.money import MINOR_UNITS, money_text
from possync.sources.base import LocationWindow, Source
from possync.sources.registry import open_source, reconcile_spec_for
from possync.tables.spec import DayKey, ReconcileSpec


class ReconcilableSource(Source, Protocol):
    def reconcile_records(self, windows: list[LocationWindow]) -> Iterator[dict[str, Any]]: ...


@dataclass
class Difference:
    location_id: str
    business_date: str
    field: str
    pos: str
    database: str


@dataclass
class ReconcileReport:
    source: str
    first_day: date
    last_day: date
    days_checked: int = 0
    differences: list[Difference] = field(default_factory=list)
    duration_seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """No differences (see `compared_nothing`: no differences can also mean no sales)."""
        return not self.differences

    @property
    def compared_nothing(self) -> bool:
        """Neither the POS nor the database held a sale in the window: nothing was checked."""
        return self.days_checked == 0

    @property
    def verdict(self) -> str:
        if self.differences:
            return "differences"
        return "nothing_compared" if self.compared_nothing else "match"

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "first_day": self.first_day.isoformat(),
            "last_day": self.last_day.isoformat(),
            "days_checked": self.days_checked,
            "ok": self.verdict == "match",
            "verdict": self.verdict,
            "differences": [asdict(d) for d in self.differences],
        }


def spec_for(source: str) -> ReconcileSpec:
    """The source's reconciliation declaration (in `possync.tables.declared`)."""
    spec = reconcile_spec_for(source)
    if spec is None:
        raise ConfigError(f"reconciliation is not available for {source}")
    return spec


def reconcile(
    settings: Settings,
    db: Database,
    source_name: str,
    *,
    days: int = 7,
    until: date | None = None,
    source: ReconcilableSource | None = None,
) -> ReconcileReport:
    """Compare the last `days` local business days (ending `until`, default today)."""
    if days < 1:
        raise ConfigError("--days must be at least 1")
    spec = spec_for(source_name)
    started = time.monotonic()
    own = source is None
    active: ReconcilableSource = source or open_source(settings, source_name)  # type: ignore[assignment]
    try:
        with db.connect() as conn:
            ensure_schema_exists(conn, db.schema)
            zones = {str(r[0]): str(r[1] or "UTC") for r in conn.execute(spec.locations_sql)}
            last_day = until or pos_today(active, zones.values())
            first_day = last_day - timedelta(days=days - 1)
            report = ReconcileReport(source_name, first_day, last_day)
            stored = _stored_days(conn, spec, first_day, last_day)
        windows = [LocationWindow(loc, tz, first_day, last_day) for loc, tz in zones.items()]
        pos = _total_days(spec, active.reconcile_records(windows), zones)
    finally:
        if own:
            active.close()
    keys = {
        k
        for k in pos.keys() | stored.keys()
        if first_day.isoformat() <= k[1] <= last_day.isoformat()
    }
    report.days_checked = len(keys)
    for key in sorted(keys):
        ours, theirs = stored.get(key, {}), pos.get(key, {})
        for name in spec.fields:
            a, b = theirs.get(name, 0), ours.get(name, 0)
            if Decimal(a) != Decimal(b):
                report.differences.append(Difference(key[0], key[1], name, str(a), str(b)))
    report.duration_seconds = time.monotonic() - started
    return report


def pos_today(source: Source, zones: Iterable[str]) -> date:
    """Today by the POS's clock (its Date header after one cheap request), in the newest of
    its locations' time zones: a simulated store's "today" is its own, not this machine's."""
    source.check()
    client = getattr(source, "client", None)
    moment = client.server_time() if client is not None else None
    now = moment or datetime.now(UTC)
    return max((now.astimezone(ZoneInfo(zone)).date() for zone in zones), default=now.date())


def _stored_days(
    conn: psycopg.Connection[Any], spec: ReconcileSpec, first: date, last: date
) -> dict[DayKey, dict[str, Any]]:
    result: dict[DayKey, dict[str, Any]] = {}
    for row in conn.execute(spec.stored_days_sql, {"first": first, "last": last}):
        key = (str(row[0]), str(row[1]))
        result[key] = dict(zip(spec.fields, row[2:], strict=True))
    return result


def _total_days(
    spec: ReconcileSpec, records: Iterable[dict[str, Any]], zones: dict[str, str]
) -> dict[DayKey, dict[str, Any]]:
    totals: dict[DayKey, dict[str, Any]] = defaultdict(lambda: dict.fromkeys(spec.fields, 0))
    for record in records:
        found = spec.day_of(record, zones)
        if found is None:
            continue
        key, values = found
        day = totals[key]
        for name, value in values.items():
            day[name] = day[name] + value
    return dict(totals)


def record_reconcile(db: Database, report: ReconcileReport) -> uuid.UUID:
    """One sync_log row, action `reconcile`, with the differences in metadata."""
    run_id = uuid.uuid4()
    spec = spec_for(report.source)
    with db.connect() as conn:
        conn.execute(
            query("record_reconciliation"),
            (
                run_id,
                report.source,
                spec.entity,
                report.duration_seconds,
                report.days_checked,
                None if report.ok else f"{len(report.differences)} difference(s) with the POS",
                Jsonb(report.to_json()),
            ),
        )
        conn.commit()
    return run_id


def alert_on_report(settings: Settings, db: Database, report: ReconcileReport) -> None:
    """Hand the result to the alerts: a mismatch opens (or joins) the reconciliation incident,
    a clean result resolves it. Never raises (the alerts module swallows its failures)."""
    from possync.notify import ReconciliationMismatch, report_reconciliation

    entity = spec_for(report.source).entity
    mismatches = []
    if not report.ok:
        first = report.differences[0]
        day_count = len({(d.location_id, d.business_date) for d in report.differences})
        mismatches.append(
            ReconciliationMismatch(
                report.source,
                entity,
                f"{day_count} day(s) differ from the POS, e.g. {first.location_id} on "
                f"{first.business_date}: {first.field} POS {first.pos}, "
                f"database {first.database}",
            )
        )
    report_reconciliation(settings, db, mismatches, checked=[(report.source, entity)])


# Each outlet's or location's name and currency, for people reading differences.
LOCATION_NAMES_SQL = {
    "lightspeed": query("lightspeed_location_names"),
    "square": query("square_location_names"),
}


def describe_differences(
    conn: psycopg.Connection[Any], source: str, differences: list[dict[str, Any]]
) -> None:
    """Each difference (as `Difference.__dict__` or from `sync_log`) gets `location_name` (the
    id when no name is stored) and `pos_text`/`database_text`: counts as counts, money in
    currency units with its currency (Square's cents converted)."""
    ids = sorted({str(d.get("location_id")) for d in differences})
    names: dict[str, str] = {}
    currencies: dict[str, str] = {}
    if ids and source in LOCATION_NAMES_SQL:
        for location_id, name, currency in conn.execute(LOCATION_NAMES_SQL[source], (ids,)):
            if name:
                names[str(location_id)] = str(name)
            if currency:
                currencies[str(location_id)] = str(currency)
    for difference in differences:
        location = str(difference.get("location_id"))
        difference["location_name"] = names.get(location, location)
        for side in ("pos", "database"):
            value = difference.get(side)
            difference[f"{side}_text"] = (
                f"{int(Decimal(str(value))):,}"
                if difference.get("field") == "count"
                else money_text(value, currencies.get(location), MINOR_UNITS.get(source, False))
            )
