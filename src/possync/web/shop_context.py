"""Which shop a request is about, and its settings, schema and connection.

A shop's pages live under `/shops/<name>/…` (`/shops/north/history`, `/shops/north/api/status`):
every shop page's route is registered twice, once as today and once under the prefix, with the
same endpoint, so `url_for("history.index")` on a shop's page keeps to that shop. Today's URLs
(`/`, `/history`, …) mean the one shop there is: the environment's or the only registered one.
With several shops `/` is the shops page, and the other URLs without a shop mean the
environment's shop (when it configures a source; else they lead to the shops page).

The dashboard never decrypts a token: "sync now" queues a job by shop name, and the worker
decrypts when it runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NoReturn, cast

import psycopg
from flask import Flask, abort, g, redirect, request, url_for

from possync.config.settings import Settings
from possync.db.access import ensure_schema_exists
from possync.db.connection import Database
from possync.jobs.names import ENVIRONMENT_SHOP_ARG
from possync.shops.model import ENVIRONMENT_SHOP, Shop
from possync.shops.resolve import all_shops, environment_shop, shop_database, shop_settings
from possync.web.pool import SearchPath, search_path
from possync.web.state import connection, connection_on, web_state

SHOP_ARG = "shop"
SHOP_PREFIX = f"/shops/<{SHOP_ARG}>"
# The pages and endpoints that show one shop's data.
SHOP_BLUEPRINTS = ("overview", "history", "jobs", "quarantine", "analytics")
SHOP_ENDPOINTS = ("api.status",)


@dataclass(frozen=True)
class ShopView:
    """One shop as its pages see it."""

    shop: Shop
    settings: Settings  # the deployment's, narrowed to the shop (no tokens)
    db: Database  # the shop's schema
    control_schema: str
    in_url: bool  # reached through /shops/<name>/…

    @property
    def name(self) -> str:
        return self.shop.name

    @property
    def path(self) -> SearchPath:
        """The shop's schema first; then the control schema, for the job queue's tables."""
        return search_path(self.db.schema, self.control_schema)

    @property
    def job_arg(self) -> str:
        """The `shop` argument of this shop's jobs."""
        return self.shop.name if self.shop.registered else ENVIRONMENT_SHOP_ARG


def known_shops() -> list[Shop]:
    """The environment's shop (when it configures a source) and every registered shop,
    read once per request, without secrets."""
    found = g.get("possync_shops")
    if found is None:
        found = all_shops(connection(), web_state().settings)
        g.possync_shops = found
    return cast(list[Shop], found)


def several_shops() -> bool:
    return len(known_shops()) > 1


def shop_in_url() -> str | None:
    """The shop the URL names, if it names one."""
    return cast(str | None, g.get("possync_shop_in_url"))


def _unconfigured_environment_shop() -> Shop:
    settings = web_state().settings
    return environment_shop(settings) or Shop(
        ENVIRONMENT_SHOP, settings.schema_name, settings.timezone, registered=False
    )


def _find(name: str) -> Shop | None:
    for shop in known_shops():
        if shop.name == name:
            return shop
    if name == ENVIRONMENT_SHOP:
        return _unconfigured_environment_shop()
    return None


def _unscoped_shop() -> Shop | None:
    """The shop today's URLs mean, or None when the user must choose one."""
    shops = known_shops()
    if len(shops) == 1:
        return shops[0]
    if not shops:
        return _unconfigured_environment_shop()  # an empty overview says what to configure
    return next((shop for shop in shops if not shop.registered), None)


def current_shop() -> ShopView:
    """The request's shop; a 404 for an unknown name."""
    found = g.get("possync_shop_view")
    if found is not None:
        return cast(ShopView, found)
    name = shop_in_url()
    if name is not None:
        shop = _find(name)
        if shop is None:
            abort(404, description=f"No shop is named {name!r}: see the list of shops.")
    else:
        shop = _unscoped_shop()
        if shop is None:
            _choose_a_shop_first()
    view = view_of(shop, in_url=name is not None)
    g.possync_shop_view = view
    return view


def view_of(shop: Shop, *, in_url: bool = True) -> ShopView:
    state = web_state()
    return ShopView(
        shop=shop,
        settings=shop_settings(state.settings, shop),
        db=shop_database(state.db, shop),
        control_schema=state.db.schema,
        in_url=in_url,
    )


def every_shop_view() -> list[ShopView]:
    """Every shop, for the shops page and /metrics (with none, the environment's own)."""
    return [view_of(shop) for shop in known_shops() or [_unconfigured_environment_shop()]]


def _choose_a_shop_first() -> NoReturn:
    names = ", ".join(shop.name for shop in known_shops())
    if local_path().startswith("/api/"):
        abort(404, description=f"several shops ({names}): ask /shops/NAME{local_path()}")
    abort(redirect(url_for("shops.index")))


def shop_connection() -> psycopg.Connection[Any]:
    """This request's connection with the shop's schema first on the search path."""
    shop = current_shop()
    conn = connection_on(shop.path)
    ensure_shop_schema(conn, shop)
    return conn


def ensure_shop_schema(conn: psycopg.Connection[Any], shop: ShopView) -> None:
    """A registered shop's schema must hold possync's tables, or its queries would fall
    through the search path to the control schema's: another shop's data. SchemaMissingError
    (503, "run `possync migrate`") otherwise. Checked on every request (one catalog lookup):
    a schema dropped while the dashboard runs must not go unnoticed."""
    if shop.shop.registered:
        ensure_schema_exists(conn, shop.db.schema, check_access=False)


def current_settings() -> Settings:
    """The request's shop's settings (time zone, thresholds, sources)."""
    return current_shop().settings


def local_path() -> str:
    """The request's path without `/shops/<name>`: what today's single-shop URL would be."""
    name = shop_in_url()
    prefix = f"/shops/{name}"
    if name is not None and request.path.startswith(prefix):
        return request.path[len(prefix) :] or "/"
    return request.path


def _is_shop_endpoint(endpoint: str) -> bool:
    return endpoint in SHOP_ENDPOINTS or endpoint.split(".", 1)[0] in SHOP_BLUEPRINTS


def add_shop_rules(app: Flask) -> None:
    """Every shop page's rule again under `/shops/<shop>`, with the same endpoint: werkzeug
    builds the rule with more arguments when `shop` is given, today's rule otherwise."""
    for rule in list(app.url_map.iter_rules()):
        if rule.endpoint and _is_shop_endpoint(rule.endpoint):
            app.add_url_rule(
                SHOP_PREFIX + rule.rule,
                endpoint=rule.endpoint,
                methods=rule.methods,
                defaults=rule.defaults,
            )


def init_app(app: Flask) -> None:
    @app.url_value_preprocessor
    def _take_shop(_endpoint: str | None, values: dict[str, Any] | None) -> None:
        if values and SHOP_ARG in values:
            g.possync_shop_in_url = values.pop(SHOP_ARG)

    @app.url_defaults
    def _stay_in_shop(endpoint: str, values: dict[str, Any]) -> None:
        name = g.get("possync_shop_in_url")
        if name is None or SHOP_ARG in values:
            return
        if app.url_map.is_endpoint_expecting(endpoint, SHOP_ARG):
            values[SHOP_ARG] = name

    @app.context_processor
    def _shop_globals() -> dict[str, Any]:
        return {
            "shop_in_url": shop_in_url,
            "page_shop": page_shop,
            "shops_page_link": _shops_page_link,
        }


def page_shop() -> ShopView | None:
    """The shop a page shows, for the header (None on pages about no one shop)."""
    found = g.get("possync_shop_view")
    return cast(ShopView | None, found)


def _shops_page_link() -> bool:
    """Whether the header links to the shops page: several shops, as this request already
    read them (a template never queries: the page may be an error page)."""
    found = g.get("possync_shops")
    return found is not None and len(found) > 1
