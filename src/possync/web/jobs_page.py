"""The jobs page (one shop's jobs: queued, running, finished, failed) and "Sync now", which
only enqueues a job naming the shop: a worker runs it, and the overview shows its progress
from the database."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from possync.errors import ConfigError
from possync.jobs.queue import Enqueued
from possync.sources.registry import configured_sources
from possync.web.list_data import JOB_TABS, read_jobs
from possync.web.shop_context import current_shop, shop_connection
from possync.web.state import web_state
from possync.web.status_data import entity_label, source_label

blueprint = Blueprint("jobs", __name__)


@blueprint.route("/jobs")
def index() -> str:
    """Jobs newest first, by tab; `?partial=1` returns only the table (the page polls it)."""
    tab = request.args.get("tab", "all")
    if tab not in JOB_TABS:
        abort(404, description=f"no such tab {tab!r}")
    page_number = request.args.get("page", 1, type=int) or 1
    rows, page, counts = read_jobs(shop_connection(), tab, page_number, current_shop().job_arg)
    template = "jobs/_table.html" if request.args.get("partial") else "jobs/index.html"
    return render_template(
        template, rows=rows, page=page, counts=counts, tab=tab, tabs=list(JOB_TABS)
    )


def _describe(result: Enqueued) -> str:
    what = f"{source_label(result.source)} " + (
        entity_label(result.entity).lower() if result.entity else "(every entity)"
    )
    if result.already_queued:
        return f"A sync of {what} is already queued."
    return f"Queued a sync of {what} (job {result.job_id})."


def _back() -> str:
    """Where the form came from, if it is this site; else the overview."""
    referrer = request.referrer or ""
    parts = urlsplit(referrer)
    if parts.netloc == request.host and parts.path.startswith("/"):
        return parts.path + (f"?{parts.query}" if parts.query else "")
    return url_for("overview.index")


@blueprint.route("/jobs/sync", methods=["POST"])
def sync_now() -> BaseResponse | tuple[BaseResponse, int]:
    """Queue a sync of the page's shop: `source` and `entity` (empty source: every configured
    source). The job names the shop; the worker reads its tokens when it runs."""
    state, shop = web_state(), current_shop()
    source = request.form.get("source", "").strip()
    entity = request.form.get("entity", "").strip()
    available = configured_sources(shop.settings)
    try:
        if not source:
            if entity:
                raise ConfigError("choose a source to sync one entity")
            if not available:
                raise ConfigError("no source is configured: set the Lightspeed or Square token")
            results = [state.job_queue.enqueue_sync(name, shop=shop.job_arg) for name in available]
        elif source not in available:
            raise ConfigError(f"{source_label(source)} is not configured: set its URL and token")
        else:
            results = [state.job_queue.enqueue_sync(source, entity, shop=shop.job_arg)]
    except ConfigError as exc:
        return _answer([], str(exc), 400)
    state.cache.invalidate()
    return _answer(results, " ".join(_describe(r) for r in results), 200)


def _answer(
    results: list[Enqueued], message: str, code: int
) -> BaseResponse | tuple[BaseResponse, int]:
    if request.accept_mimetypes.best == "application/json":
        body: dict[str, Any] = {"message": message, "jobs": [r.to_json() for r in results]}
        if code != 200:
            body["error"] = message
        return jsonify(body), code
    flash(message, "error" if code != 200 else "info")
    return redirect(_back())
