"""The source registry: one declaration per source, and everything asked of it agrees."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from possync.config.settings import Settings, load_settings
from possync.errors import ConfigError
from possync.sources.registry import (
    REGISTRY,
    SOURCES,
    configured_sources,
    deep_pass_entities,
    entities_for,
    open_source,
    reconcile_spec_for,
    resolve_entities,
    sync_target,
    tables_for,
)
from possync.tables.declared import DECLARED_TABLES


def _settings(tmp_path: Path, **credentials: str) -> Settings:
    values: dict[str, object] = {
        "_env_file": None,
        "data_dir": tmp_path,
        "lightspeed_url": "",
        "lightspeed_domain_prefix": "",
        "lightspeed_token": "",
        "square_token": "",
    }
    values.update(credentials)
    return load_settings(secrets_dir=tmp_path / "no-secrets", **values)


def test_every_declared_source_is_registered_in_the_same_order() -> None:
    # Settings check entity names against the declarations (they cannot import the clients):
    # the registry and the declarations must list the same sources.
    assert [declared.source for declared in DECLARED_TABLES] == list(SOURCES)
    for name, entry in REGISTRY.items():
        assert entry.name == name == entry.tables.source


@pytest.mark.parametrize("source", SOURCES)
def test_a_source_client_reads_exactly_its_declared_tables(tmp_path: Path, source: str) -> None:
    settings = _settings(
        tmp_path,
        lightspeed_url="http://pos.invalid/api/2.0",
        lightspeed_token="t",
        square_url="http://pos.invalid",
        square_token="t",
    )
    refuse = httpx.MockTransport(lambda request: httpx.Response(500))
    client = open_source(settings, source, transport=refuse)
    try:
        assert client.name == source
        assert client.stream_names() == tuple(tables_for(source))
    finally:
        client.close()


def test_entities_list_children_after_their_parent() -> None:
    assert entities_for("lightspeed")[-3:] == ("sales", "sale_line_items", "sale_payments")
    square = entities_for("square")
    assert square.index("order_line_items") == square.index("orders") + 1
    assert set(square) - set(tables_for("square")) == {"order_line_items"}


def test_a_child_entity_syncs_with_its_parent() -> None:
    assert sync_target("lightspeed", "sale_payments") == "sales"
    assert sync_target("square", "order_line_items") == "orders"
    assert sync_target("square", "payments") == "payments"
    assert resolve_entities("lightspeed", ("sale_line_items", "outlets", "sales")) == [
        "outlets",
        "sales",
    ]
    assert resolve_entities("square", ()) == list(tables_for("square"))


def test_unknown_names_are_one_line_errors() -> None:
    with pytest.raises(ConfigError, match=r"^unknown lightspeed entity 'unicorns': use one of "):
        sync_target("lightspeed", "unicorns")
    with pytest.raises(ConfigError, match="unknown square entity 'sales'"):
        resolve_entities("square", ("orders", "sales"))
    with pytest.raises(
        ConfigError, match=r"^unknown source 'vend': use one of lightspeed, square$"
    ):
        tables_for("vend")


def test_reconciliation_and_the_deep_pass_are_declared_per_source() -> None:
    lightspeed, square = reconcile_spec_for("lightspeed"), reconcile_spec_for("square")
    assert lightspeed is not None and lightspeed.entity == "sales"
    assert square is not None and square.entity == "orders"
    assert deep_pass_entities("lightspeed") == ()
    assert deep_pass_entities("square") == (
        "categories",
        "catalog_items",
        "catalog_item_variations",
    )


def test_configured_sources_follow_the_credentials(tmp_path: Path) -> None:
    assert configured_sources(_settings(tmp_path)) == ()
    assert configured_sources(_settings(tmp_path, square_token="sq")) == ("square",)
    # Lightspeed needs its URL (or the store's subdomain) as well as a token.
    assert configured_sources(_settings(tmp_path, lightspeed_token="ls")) == ()
    both = _settings(
        tmp_path, lightspeed_domain_prefix="shop", lightspeed_token="ls", square_token="s"
    )
    assert configured_sources(both) == ("lightspeed", "square")
