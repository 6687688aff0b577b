"""Every Lightspeed response the sync uses validates against the official OpenAPI 2.0 schema."""

from __future__ import annotations

import httpx
import pytest

from possync.simulator import RunningSimulator
from tests.simulator.ls_support import LIST_ENDPOINTS, schema_errors, walk

SINGLE_PATHS = {
    "outlets": "/outlets/{outlet_id}",
    "registers": "/registers/{register_id}",
    "users": "/users/{user_id}",
    "brands": "/brands/{brand_id}",
    "suppliers": "/suppliers/{supplier_id}",
    "customer_groups": "/customer_groups/{customer_group_id}",
    "products": "/products/{product_id}",
    "customers": "/customers/{customer_id}",
    "sales": "/sales/{sale_id}",
}


@pytest.mark.parametrize("endpoint", sorted(LIST_ENDPOINTS))
def test_every_list_page_validates(ls_client: httpx.Client, endpoint: str) -> None:
    params = {"deleted": "true"} if LIST_ENDPOINTS[endpoint] else {}
    records, pages = walk(ls_client, endpoint, page_size=250, **params)
    assert records, f"/{endpoint} served nothing"
    for page in pages:
        assert schema_errors(f"/{endpoint}", page) == []
    assert pages[-1] == {"data": [], "version": {"min": None, "max": None}}


@pytest.mark.parametrize("endpoint", sorted(SINGLE_PATHS))
def test_single_records_validate(ls_client: httpx.Client, endpoint: str) -> None:
    params = {"deleted": "true"} if LIST_ENDPOINTS[endpoint] else {}
    records, _ = walk(ls_client, endpoint, page_size=1000, **params)
    for record in records[:: max(len(records) // 25, 1)]:
        response = ls_client.get(f"/{endpoint}/{record['id']}")
        assert response.status_code == 200
        body = response.json()
        assert body["data"]["id"] == record["id"]
        assert schema_errors(SINGLE_PATHS[endpoint], body) == []


def test_search_and_categories_validate(ls_client: httpx.Client) -> None:
    search = ls_client.get("/search", params={"type": "sales", "page_size": 1000}).json()
    assert len(search["data"]) == 1000
    assert schema_errors("/search", search) == []
    for kind in ("products", "customers"):
        body = ls_client.get("/search", params={"type": kind, "page_size": 50}).json()
        assert len(body["data"]) == 50
        assert schema_errors("/search", body) == []
    categories = ls_client.get("/product_categories").json()
    assert categories["data"]["categories"]
    assert schema_errors("/product_categories", categories) == []


def test_changed_records_still_validate(
    fresh_lightspeed: RunningSimulator, fresh_lightspeed_client: httpx.Client
) -> None:
    client = fresh_lightspeed_client
    changing = ("products", "customers", "inventory", "sales")
    marks = {endpoint: _max_version(client, endpoint) for endpoint in changing}
    fresh_lightspeed.simulator.advance(600)
    for endpoint, mark in marks.items():
        params = {"deleted": "true"} if LIST_ENDPOINTS[endpoint] else {}
        records, pages = walk(client, endpoint, page_size=500, after=mark, **params)
        assert records, f"time travel changed no {endpoint}"
        for page in pages:
            assert schema_errors(f"/{endpoint}", page) == []


def _max_version(client: httpx.Client, endpoint: str) -> int:
    params = {"deleted": "true"} if LIST_ENDPOINTS[endpoint] else {}
    records, _ = walk(client, endpoint, page_size=1000, **params)
    return max(int(r["version"]) for r in records)
