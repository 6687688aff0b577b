"""The history page (`sync_log`, filtered and paginated, plus chart points) and the jobs page
(procrastinate's jobs with their times and what each did)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row

from possync.config.settings import Settings
from possync.db.queries import query
from possync.health.status import read_entity_statuses
from possync.jobs.names import MAINTENANCE_TASK as HOUSEKEEPING_TASK
from possync.jobs.names import SYNC_QUEUES, SYNC_TASK

PER_PAGE = 50
CHART_POINTS = 200
LOG_STATUSES = ("started", "completed", "failed", "abandoned")
# The jobs page's tabs → procrastinate statuses.
JOB_TABS: dict[str, tuple[str, ...]] = {
    "all": (),
    "queued": ("todo",),
    "running": ("doing",),
    "finished": ("succeeded",),
    "failed": ("failed", "cancelled", "aborted"),
}


@dataclass(frozen=True)
class Page:
    number: int
    total_rows: int
    per_page: int = PER_PAGE

    @property
    def count(self) -> int:
        return max(1, -(-self.total_rows // self.per_page))

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.per_page


@dataclass(frozen=True)
class HistoryFilter:
    source: str | None = None
    entity: str | None = None
    status: str | None = None

    def params(self) -> dict[str, Any]:
        return {"source": self.source, "entity": self.entity, "status": self.status}

    def query_args(self) -> dict[str, str]:
        """The filter as URL query arguments (pagination links keep it)."""
        return {k: v for k, v in self.params().items() if v}


def read_history(
    conn: psycopg.Connection[Any], where: HistoryFilter, page_number: int
) -> tuple[list[dict[str, Any]], Page]:
    """One page of sync_log, newest first."""
    row = conn.execute(query("history_count"), where.params()).fetchone()
    page = Page(number=1, total_rows=int(row[0]) if row else 0)
    page = Page(number=min(max(page_number, 1), page.count), total_rows=page.total_rows)
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            query("history_page"),
            {**where.params(), "limit": page.per_page, "offset": page.offset},
        )
        return cur.fetchall(), page


@dataclass(frozen=True)
class ChartPoint:
    at: datetime
    duration_seconds: float
    records: int
    status: str
    series: str = ""  # "source/entity": the chart joins only runs of the same entity


def read_chart_points(conn: psycopg.Connection[Any], where: HistoryFilter) -> list[ChartPoint]:
    """The latest finished runs matching the filter, oldest first."""
    rows = conn.execute(
        query("history_chart_points"), {**where.params(), "limit": CHART_POINTS}
    ).fetchall()
    return [ChartPoint(r[0], float(r[1]), int(r[2]), r[3], r[4]) for r in reversed(rows)]


def read_filter_options(
    conn: psycopg.Connection[Any], settings: Settings
) -> tuple[list[str], list[str]]:
    """Sources and entities seen in sync_state, for the filter menus."""
    statuses = read_entity_statuses(conn, settings)
    return sorted({s.source for s in statuses}), sorted({s.entity_type for s in statuses})


def read_jobs(
    conn: psycopg.Connection[Any], tab: str, page_number: int, shop: str
) -> tuple[list[dict[str, Any]], Page, dict[str, int]]:
    """One page of a shop's jobs (newest first; `shop` is its jobs' argument), and the count
    per tab. The five-minute housekeeping job is left out: it would bury the syncs."""
    statuses = list(JOB_TABS.get(tab, ()))
    counts_rows = conn.execute(
        query("job_counts_by_status"), (list(SYNC_QUEUES), HOUSEKEEPING_TASK, shop)
    ).fetchall()
    by_status = {status: int(n) for status, n in counts_rows}
    counts = {
        name: sum(n for s, n in by_status.items() if not wanted or s in wanted)
        for name, wanted in JOB_TABS.items()
    }
    page = Page(number=1, total_rows=counts.get(tab, counts["all"]))
    page = Page(number=min(max(page_number, 1), page.count), total_rows=page.total_rows)
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            query("jobs_page"),
            {
                "sync_task": SYNC_TASK,
                "queue": list(SYNC_QUEUES),
                "housekeeping": HOUSEKEEPING_TASK,
                "shop": shop,
                "statuses": statuses,
                "limit": page.per_page,
                "offset": page.offset,
            },
        )
        return cur.fetchall(), page, counts
