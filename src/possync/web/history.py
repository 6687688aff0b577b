"""The history page (one shop's): `sync_log` filtered by source, entity and status,
paginated, with a chart of durations and records over time."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import Blueprint, render_template, request

from possync.web.charts import runs_chart
from possync.web.list_data import (
    LOG_STATUSES,
    HistoryFilter,
    read_chart_points,
    read_filter_options,
    read_history,
)
from possync.web.shop_context import current_settings, shop_connection

blueprint = Blueprint("history", __name__)


@blueprint.route("/history")
def index() -> str:
    """Runs newest first; filters are plain GET arguments, so a filtered view can be shared."""
    status = request.args.get("status") or None
    where = HistoryFilter(
        source=request.args.get("source") or None,
        entity=request.args.get("entity") or None,
        status=status if status in LOG_STATUSES else None,
    )
    conn, settings = shop_connection(), current_settings()
    rows, page = read_history(conn, where, request.args.get("page", 1, type=int) or 1)
    sources, entities = read_filter_options(conn, settings)
    return render_template(
        "history/index.html",
        rows=rows,
        page=page,
        where=where,
        sources=sources,
        entities=entities,
        statuses=LOG_STATUSES,
        chart=runs_chart(read_chart_points(conn, where), ZoneInfo(settings.timezone)),
    )
