"""The shops page (`/shops`, and `/` when there are several shops): one row per shop with its
health summary, last success, money check and paused state, each linking to the shop's own
overview (`/shops/<name>/`); `/api/shops` is the same as JSON."""

from __future__ import annotations

from collections import Counter
from typing import Any

from flask import Blueprint, Response, jsonify, render_template, url_for

from possync.shops.oauth.apps import configured_vendors
from possync.web.cache import activity_fingerprint
from possync.web.shop_context import every_shop_view
from possync.web.shops_data import ShopRow, read_shop_row
from possync.web.state import borrowed_connection, connection, web_state

blueprint = Blueprint("shops", __name__)


def read_shop_rows() -> list[ShopRow]:
    """Every shop's row, on one connection moved from schema to schema; cached while no job
    is queued, starts or ends in any shop (and the shops and their pause are unchanged)."""
    shops = every_shop_view()
    fingerprint = (
        activity_fingerprint(connection()),
        tuple((shop.name, shop.shop.paused) for shop in shops),
    )

    def read_all() -> list[ShopRow]:
        rows = []
        for shop in shops:
            with borrowed_connection(shop.path) as conn:
                rows.append(read_shop_row(conn, shop))
        return rows

    return web_state().cache.get("shops/rows", fingerprint, read_all)


def _connect_links() -> dict[str, str]:
    """The OAuth connect pages that are set up (client id and secret): source → the URL the
    form GETs (a shop name is added as `name`). Empty until an OAuth app is configured."""
    return {
        vendor: url_for("oauth.start", vendor=vendor)
        for vendor in configured_vendors(web_state().settings)
    }


def render_shops_page() -> str:
    rows = read_shop_rows()
    worst = Counter(row.worst for row in rows)
    return render_template(
        "shops/index.html",
        rows=rows,
        worst=worst,
        connect_links=_connect_links(),
    )


@blueprint.route("/shops")
def index() -> str:
    return render_shops_page()


@blueprint.route("/api/shops")
def shops_json() -> Response:
    """Every shop's row as JSON."""
    body: dict[str, Any] = {"shops": [row.to_json() for row in read_shop_rows()]}
    return jsonify(body)
