"""The overview: a card per source and entity of one shop with its health; the page polls
the shop's `/api/status` every two seconds and updates the cards in place (progress, results,
colours). With several shops, `/` is the shops page and each shop's overview is
`/shops/<name>/`."""

from __future__ import annotations

from itertools import groupby
from typing import Any

from flask import Blueprint, render_template

from possync.sources.registry import configured_sources
from possync.web.api import build_status
from possync.web.quarantine_page import quarantine_counts
from possync.web.shop_context import current_shop, several_shops, shop_connection, shop_in_url
from possync.web.shops_page import render_shops_page

blueprint = Blueprint("overview", __name__)


@blueprint.route("/")
def index() -> str:
    """Cards grouped by source (the shops page at `/` when there are several shops)."""
    if shop_in_url() is None and several_shops():
        return render_shops_page()
    status = build_status()
    configured = configured_sources(current_shop().settings)
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
        quarantined=quarantine_counts(shop_connection()),
    )
