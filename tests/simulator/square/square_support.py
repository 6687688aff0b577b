"""Helpers for the Square simulator tests: clients, cursor walks, snapshots, schema checks."""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

import httpx
from openapi_schema_validator import OAS30Validator, oas30_format_checker

from possync.simulator import RunningSimulator

SPEC_PATH = Path(__file__).parent.parent / "specs" / "square-connect-api.json"
SQUARE_VERSION = "2025-10-16"
CATALOG_TYPES = ["ITEM", "ITEM_VARIATION", "CATEGORY"]


def square_client(simulator: RunningSimulator) -> httpx.Client:
    """An httpx client at the host root (Square paths start with /v2/) with the token."""
    return httpx.Client(
        base_url=simulator.square_url,
        headers={
            "Authorization": f"Bearer {simulator.token}",
            "Square-Version": SQUARE_VERSION,
        },
        timeout=30,
    )


def walk(
    client: httpx.Client,
    method: str,
    path: str,
    list_key: str,
    *,
    body: dict[str, Any] | None = None,
    params: dict[str, Any] | None = None,
    max_pages: int = 5_000,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Follow `cursor` until it is absent; every record and every raw page."""
    records: list[dict[str, Any]] = []
    pages: list[dict[str, Any]] = []
    cursor: str | None = None
    for _ in range(max_pages):
        if method == "GET":
            query = dict(params or {}, **({"cursor": cursor} if cursor else {}))
            response = client.get(path, params=query)
        else:
            response = client.post(
                path, json=dict(body or {}, **({"cursor": cursor} if cursor else {}))
            )
        assert response.status_code == 200, response.text
        page = response.json()
        pages.append(page)
        records.extend(page.get(list_key, []))
        cursor = page.get("cursor")
        if not cursor:
            return records, pages
    raise AssertionError(f"{path} did not finish within {max_pages} pages")


def location_ids(client: httpx.Client) -> list[str]:
    """Every location id (ListLocations is not paginated)."""
    response = client.get("/v2/locations")
    assert response.status_code == 200, response.text
    return [location["id"] for location in response.json()["locations"]]


def chunks(values: list[str], size: int = 10) -> list[list[str]]:
    """SearchOrders takes at most 10 location ids."""
    return [values[i : i + size] for i in range(0, len(values), size)]


def all_orders(
    client: httpx.Client, query: dict[str, Any] | None = None, limit: int = 1000
) -> list[dict[str, Any]]:
    """Every order matching `query`, over all locations in chunks of 10."""
    orders: list[dict[str, Any]] = []
    for chunk in chunks(location_ids(client)):
        body: dict[str, Any] = {"location_ids": chunk, "limit": limit}
        if query is not None:
            body["query"] = query
        orders.extend(walk(client, "POST", "/v2/orders/search", "orders", body=body)[0])
    return orders


def snapshot(client: httpx.Client) -> dict[str, dict[str, dict[str, Any]]]:
    """Every record of every entity the sync stores, read through the API: entity → id → doc."""
    locations = client.get("/v2/locations").json()["locations"]
    catalog, _ = walk(
        client,
        "POST",
        "/v2/catalog/search",
        "objects",
        body={"object_types": CATALOG_TYPES, "include_deleted_objects": True, "limit": 1000},
    )
    orders = all_orders(client)
    counts, _ = walk(
        client, "POST", "/v2/inventory/counts/batch-retrieve", "counts", body={"limit": 1000}
    )
    payments: list[dict[str, Any]] = []
    for location in locations:
        payments += walk(
            client, "GET", "/v2/payments", "payments", params={"location_id": location["id"]}
        )[0]
    return {
        "locations": {loc["id"]: loc for loc in locations},
        "categories": {o["id"]: o for o in catalog if o["type"] == "CATEGORY"},
        "catalog_items": {o["id"]: o for o in catalog if o["type"] == "ITEM"},
        "catalog_item_variations": {o["id"]: o for o in catalog if o["type"] == "ITEM_VARIATION"},
        "customers": {c["id"]: c for c in walk(client, "GET", "/v2/customers", "customers")[0]},
        "orders": {o["id"]: o for o in orders},
        "order_line_items": {
            f"{o['id']}:{line['uid']}": line for o in orders for line in o.get("line_items", [])
        },
        "inventory_counts": {
            f"{c['catalog_object_id']}:{c['location_id']}:{c['state']}": c for c in counts
        },
        "payments": {p["id"]: p for p in payments},
        "refunds": {r["id"]: r for r in walk(client, "GET", "/v2/refunds", "refunds")[0]},
    }


def entity_ids(snap: dict[str, dict[str, dict[str, Any]]]) -> dict[str, dict[str, list[str]]]:
    """A snapshot in the truth's shape: per entity the sorted ids alive and deleted."""
    result: dict[str, dict[str, list[str]]] = {}
    for entity, records in snap.items():
        deleted = sorted(i for i, doc in records.items() if doc.get("is_deleted") is True)
        alive = sorted(i for i, doc in records.items() if doc.get("is_deleted") is not True)
        result[entity] = {"alive": alive, "deleted": deleted}
    return result


@cache
def spec() -> dict[str, Any]:
    """The official Square OpenAPI document."""
    document: dict[str, Any] = json.loads(SPEC_PATH.read_text())
    return document


@cache
def _strict_components() -> dict[str, Any]:
    """The spec's components with unknown properties forbidden, so a misspelt or invented
    field fails validation (the spec itself allows extra properties everywhere)."""
    components = copy.deepcopy(spec()["components"])
    for schema in components["schemas"].values():
        if "properties" in schema and "additionalProperties" not in schema:
            schema["additionalProperties"] = False
    return components


@cache
def validator(method: str, path: str) -> OAS30Validator:
    """A validator for the 200 response schema of the operation `method path`."""
    operation = spec()["paths"][path][method.lower()]
    schema = copy.deepcopy(operation["responses"]["200"]["content"]["application/json"]["schema"])
    schema["components"] = _strict_components()
    return OAS30Validator(schema, format_checker=oas30_format_checker)


def schema_errors(method: str, path: str, body: Any) -> list[str]:
    """Every schema violation of a response body of `method path`, readable."""
    check = validator(method, path)
    return [f"{list(e.absolute_path)}: {e.message}" for e in check.iter_errors(body)]
