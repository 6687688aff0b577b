"""Routes: `/sales`, `/products`, `/stock` (pages), `/api/analytics/<page>` (JSON) and
`/analytics/<page>/<table>.csv`. All need the session (enforced app-wide in `auth`)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import psycopg
from flask import Blueprint, Response, abort, jsonify, render_template, request

from possync.db.rollups import refresh_rollups, stale_days, stale_days_of
from possync.web.analytics import page_data
from possync.web.analytics.money import money_text
from possync.web.analytics.periods import (
    BadParameter,
    Period,
    parse_period,
    quick_picks,
    today_in,
)
from possync.web.analytics.sales_data import (
    SOURCES,
    check_source,
    newest_sale_date,
    read_daily_sales,
    total_of,
)
from possync.web.analytics.tables import Table, display
from possync.web.shop_context import current_settings, local_path, shop_connection

blueprint = Blueprint("analytics", __name__)

PAGES = ("sales", "products", "stock")

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Query:
    """What a business page or endpoint was asked for."""

    source: str
    period: Period
    picks: dict[str, Period]
    unsold_days: int | None  # None: the range itself

    def args(self, **changes: Any) -> dict[str, Any]:
        values = {
            "source": self.source,
            "from": self.period.start.isoformat(),
            "to": self.period.end.isoformat(),
        }
        values.update(changes)
        return values


def _default_source() -> str:
    settings = current_settings()
    if settings.lightspeed_url or not settings.square_token:
        return "lightspeed"
    return "square"


def read_query() -> Query:
    """The request's source, range and options; BadParameter says what to fix."""
    args = request.args
    source = check_source(args.get("source") or _default_source())
    today = today_in(current_settings().timezone)
    period = parse_period(args.get("from"), args.get("to"), today)
    days_text = args.get("days") or ""
    if days_text and (not days_text.isdigit() or not 1 <= int(days_text) <= 3650):
        raise BadParameter(f"days={days_text!r} is not a number of days from 1 to 3650")
    return Query(source, period, quick_picks(today), int(days_text) if days_text else None)


@blueprint.errorhandler(BadParameter)
def bad_parameter(exc: BadParameter) -> tuple[Response | str, int]:
    if local_path().startswith("/api/"):
        return jsonify(error=str(exc)), 400
    return render_template("analytics/bad_request.html", message=str(exc)), 400


PAGE_ROWS = 100  # the page shows this many reorder lines; the CSV and JSON have them all
PRODUCT_PAGE_ROWS = 50  # and this many rows of each product table (products.html)


@contextmanager
def reading() -> Iterator[psycopg.Connection[Any]]:
    """The request's connection inside one read-only transaction, so a page's figures come
    from one snapshot; its settings are LOCAL, so a pooled connection keeps none of them."""
    conn = shop_connection()
    _refresh_stale_days(conn)
    with conn.transaction():
        # Repeatable read: every statement of the page sees the same snapshot (the Products
        # page's blocks are chosen from the dates that hold data, then summed).
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        conn.execute("SET LOCAL work_mem = '64MB'")  # product sums stay in memory, not on disk
        # A page sums a few thousand rows: starting parallel workers and merging their sorted
        # parts costs more than it saves (the Products page's sums: 55 ms → 20 ms without).
        conn.execute("SET LOCAL max_parallel_workers_per_gather = 0")
        yield conn


WEB_REFRESH_MAX_DAYS = 31


def _refresh_stale_days(conn: psycopg.Connection[Any]) -> None:
    """Bring the rollups up to date when a sync left a few days stale (it stopped before its
    refresh, or it is running now). More than a month of stale days is an import under way:
    its own refresh at the end does them, rather than a page request holding up its commits.
    A role that may only read leaves them as they are: the next sync refreshes."""
    count = stale_days(conn, WEB_REFRESH_MAX_DAYS + 1)
    if count == 0 or count > WEB_REFRESH_MAX_DAYS:
        return
    try:
        with conn.transaction():
            refresh_rollups(conn)
    except psycopg.errors.InsufficientPrivilege:
        pass
    except psycopg.Error as exc:  # read-only mode, a full disk: show the rollups as they are
        if isinstance(exc, psycopg.OperationalError):
            raise
        log.warning(
            "could not refresh %d stale days of the rollups: %s",
            count,
            str(exc).splitlines()[0] if str(exc) else type(exc).__name__,
        )


def _tables(
    conn: psycopg.Connection[Any], page: str, query: Query, *, full: bool = True
) -> tuple[dict[str, Any], list[Table]]:
    if page == "sales":
        return page_data.sales(conn, query.source, query.period)
    if page == "products":
        return page_data.products(
            conn,
            query.source,
            query.period,
            query.unsold_days,
            None if full else PRODUCT_PAGE_ROWS,
        )
    return page_data.stock(conn, query.source, query.period, None if full else PAGE_ROWS)


def _newest_sales(conn: psycopg.Connection[Any], query: Query) -> Period | None:
    """The 30 days up to the newest stored sale, when the range asked for starts after it
    (a shop closed for a while, a sync that stopped, or the demo's simulated store): the page
    then offers them rather than a page of zeros."""
    newest = newest_sale_date(conn, query.source, current_settings().timezone)
    if newest is None or newest >= query.period.start:
        return None
    return Period(newest - timedelta(days=29), newest)


def _render(page: str) -> str:
    query = read_query()
    with reading() as conn:
        summary, tables = _tables(conn, page, query, full=False)
        newest = _newest_sales(conn, query)
        # Days a stopped import left stale (more than the page refreshes itself) are said
        # out loud rather than shown as if current.
        stale = stale_days_of(conn, query.source)
    return render_template(
        f"analytics/{page}.html",
        page=page,
        query=query,
        sources=SOURCES,
        summary=summary,
        tables=tables,
        display=display,
        newest=newest,
        stale=stale,
    )


@blueprint.route("/sales")
def sales() -> str:
    """Sales: totals with the previous period, a chart by day, breakdowns."""
    return _render("sales")


@blueprint.route("/products")
def products() -> str:
    """Products: top and bottom products and categories, and products not selling."""
    return _render("products")


@blueprint.route("/stock")
def stock() -> str:
    """Stock: value at cost, what to reorder and how many days it lasts."""
    return _render("stock")


@blueprint.route("/api/analytics/daily-sales")
def api_daily_sales() -> Response:
    """`{"currency", "from", "to", "rows": [...], "totals": {...}}`, money as decimal strings."""
    query = read_query()
    with reading() as conn:
        rows = read_daily_sales(conn, query.source, query.period)
        previous = total_of(read_daily_sales(conn, query.source, query.period.previous()))
        stale = stale_days_of(conn, query.source)
    totals = total_of(rows)
    return jsonify(
        source=query.source,
        currency=totals["currency"],
        **{"from": query.period.start.isoformat(), "to": query.period.end.isoformat()},
        rows=[_json_row(row) for row in rows],
        totals=_json_row(totals),
        previous_totals=_json_row(previous),
        stale_days=stale.count if stale else 0,
    )


@blueprint.route("/api/analytics/<page>")
def api_page(page: str) -> Response:
    """Every table of the Products or Stock page as JSON rows keyed by column title."""
    if page not in ("products", "stock"):
        abort(404)
    query = read_query()
    with reading() as conn:
        summary, tables = _tables(conn, page, query)
        stale = stale_days_of(conn, query.source)
    return jsonify(
        source=query.source,
        **{"from": query.period.start.isoformat(), "to": query.period.end.isoformat()},
        summary=_json_row(summary),
        stale_days=stale.count if stale else 0,
        tables={
            t.name: [
                {c.title: _json_value(v) for c, v in zip(t.columns, row, strict=True)}
                for row in t.rows
            ]
            for t in tables
        },
    )


@blueprint.route("/analytics/<page>/<table>.csv")
def export_csv(page: str, table: str) -> Response:
    """One table of a page as CSV, for the same source and range."""
    if page not in PAGES:
        abort(404)
    query = read_query()
    with reading() as conn:
        _, tables = _tables(conn, page, query)
    chosen = next((t for t in tables if t.name == table), None)
    if chosen is None:
        abort(404)
    filename = f"{page}-{table}-{query.source}-{query.period.start}-{query.period.end}.csv"
    return Response(
        chosen.csv_text(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _json_row(row: dict[str, Any]) -> dict[str, Any]:
    return {k: _json_value(v) for k, v in row.items() if not k.startswith("_")}


def _json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return money_text(value)
    if isinstance(value, date):
        return value.isoformat()
    return value
