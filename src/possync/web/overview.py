"""The overview: a card per source and entity with its health; the page polls `/api/status`
every two seconds and updates the cards in place (progress, results, colours)."""

from __future__ import annotations

from itertools import groupby
from typing import Any

from flask import Blueprint, render_template

from possync.sources.registry import configured_sources
from possync.web.api import build_status
from possync.web.quarantine_page import quarantine_counts
from possync.web.state import connection, web_state

blueprint = Blueprint("overview", __name__)


@blueprint.route("/")
def index() -> str:
    """Cards grouped by source."""
    status = build_status()
    configured = configured_sources(web_state().settings)
    groups: list[tuple[str, list[dict[str, Any]]]] = [
        (source, list(cards))
        for source, cards in groupby(status["cards"], key=lambda card: card["source"])
    ]
    return render_template(
        "overview/index.html",
        status=status,
        groups=groups,
        configured=configured,
        can_sync=bool(configured),
        quarantined=quarantine_counts(connection()),
    )
