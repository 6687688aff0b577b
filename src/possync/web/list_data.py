"""The history page (`sync_log`, filtered and paginated, plus chart points) and the jobs page
(procrastinate's jobs with their times and what each did)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row

from possync.jobs.names import MAINTENANCE_TASK as HOUSEKEEPING_TASK
from possync.jobs.names import QUEUE, SYNC_TASK

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


_HISTORY_WHERE = """
    (%(source)s::text IS NULL OR source = %(source)s)
    AND (%(entity)s::text IS NULL OR entity_type = %(entity)s)
    AND (%(status)s::text IS NULL OR status = %(status)s)"""


def read_history(
    conn: psycopg.Connection[Any], where: HistoryFilter, page_number: int
) -> tuple[list[dict[str, Any]], Page]:
    """One page of sync_log, newest first."""
    row = conn.execute(
        "SELECT count(*) FROM sync_log WHERE " + _HISTORY_WHERE, where.params()
    ).fetchone()
    page = Page(number=1, total_rows=int(row[0]) if row else 0)
    page = Page(number=min(max(page_number, 1), page.count), total_rows=page.total_rows)
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            """SELECT id, run_id, source, entity_type, action, status, "timestamp", finished_at,
                      duration_seconds, records_processed, error_details, metadata
               FROM sync_log WHERE """
            + _HISTORY_WHERE
            + """ ORDER BY "timestamp" DESC, id DESC LIMIT %(limit)s OFFSET %(offset)s""",
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
        """SELECT "timestamp", coalesce(duration_seconds, 0), records_processed, status,
                  source || '/' || entity_type
           FROM sync_log WHERE status <> 'started' AND """
        + _HISTORY_WHERE
        + """ ORDER BY "timestamp" DESC LIMIT %(limit)s""",
        {**where.params(), "limit": CHART_POINTS},
    ).fetchall()
    return [ChartPoint(r[0], float(r[1]), int(r[2]), r[3], r[4]) for r in reversed(rows)]


def read_filter_options(conn: psycopg.Connection[Any]) -> tuple[list[str], list[str]]:
    """Sources and entities seen in sync_state, for the filter menus."""
    rows = conn.execute("SELECT DISTINCT source, entity_type FROM sync_state").fetchall()
    return sorted({r[0] for r in rows}), sorted({r[1] for r in rows})


def read_jobs(
    conn: psycopg.Connection[Any], tab: str, page_number: int
) -> tuple[list[dict[str, Any]], Page, dict[str, int]]:
    """One page of possync's jobs (newest first), and the count per tab. The five-minute
    housekeeping job is left out: it would bury the syncs."""
    statuses = list(JOB_TABS.get(tab, ()))
    counts_rows = conn.execute(
        """SELECT status::text, count(*) FROM procrastinate_jobs
           WHERE queue_name = %s AND task_name <> %s GROUP BY status""",
        (QUEUE, HOUSEKEEPING_TASK),
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
            """SELECT j.id, j.task_name, j.status::text AS status, j.args, j.attempts,
                      j.scheduled_at,
                      ev.queued_at, ev.started_at, ev.finished_at,
                      o.records, o.error, o.worker, o.ok,
                      j.task_name = %(sync_task)s AS is_sync
               FROM procrastinate_jobs j
               LEFT JOIN LATERAL (
                   SELECT min(at) FILTER (WHERE type = 'deferred') AS queued_at,
                          max(at) FILTER (WHERE type = 'started') AS started_at,
                          max(at) FILTER (WHERE type IN ('succeeded', 'failed', 'cancelled',
                                                         'aborted')) AS finished_at
                   FROM procrastinate_events e WHERE e.job_id = j.id) ev ON true
               LEFT JOIN sync_job_outcomes o ON o.job_id = j.id
               WHERE j.queue_name = %(queue)s AND j.task_name <> %(housekeeping)s
                 AND (cardinality(%(statuses)s::text[]) = 0
                      OR j.status::text = ANY(%(statuses)s::text[]))
               ORDER BY j.id DESC LIMIT %(limit)s OFFSET %(offset)s""",
            {
                "sync_task": SYNC_TASK,
                "queue": QUEUE,
                "housekeeping": HOUSEKEEPING_TASK,
                "statuses": statuses,
                "limit": page.per_page,
                "offset": page.offset,
            },
        )
        return cur.fetchall(), page, counts
