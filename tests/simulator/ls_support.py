"""Helpers for the Lightspeed simulator tests: page walks and OpenAPI schema validation."""

from __future__ import annotations

import copy
import json
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from pathlib import Path
from typing import Any

import httpx
from openapi_schema_validator import OAS30Validator, oas30_format_checker

SPEC_PATH = Path(__file__).parent / "specs" / "lightspeed-x-series-api-2.0.openapi.json"
# endpoint -> whether the spec gives it a `deleted` parameter
LIST_ENDPOINTS = {
    "outlets": True,
    "registers": True,
    "users": False,
    "taxes": False,
    "payment_types": False,
    "brands": False,
    "suppliers": False,
    "customer_groups": True,
    "products": True,
    "customers": True,
    "inventory": False,
    "sales": False,
}
CENT = Decimal("0.01")


def walk(
    client: httpx.Client, endpoint: str, page_size: int = 200, **params: Any
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every record of a list endpoint, following `after`; also every raw page body."""
    records: list[dict[str, Any]] = []
    pages: list[dict[str, Any]] = []
    after = params.pop("after", 0)
    while True:
        response = client.get(
            f"/{endpoint}", params={"after": after, "page_size": page_size, **params}
        )
        assert response.status_code == 200, response.text
        body = response.json(parse_float=Decimal)
        pages.append(body)
        if not body["data"]:
            return records, pages
        versions = [record["version"] for record in body["data"]]
        assert versions == sorted(versions) and versions[0] > after
        assert body["version"] == {"min": versions[0], "max": versions[-1]}
        records.extend(body["data"])
        after = body["version"]["max"]


@cache
def spec() -> dict[str, Any]:
    """The official Lightspeed X-Series API 2.0 OpenAPI document."""
    result: dict[str, Any] = json.loads(SPEC_PATH.read_text())
    return result


@cache
def validator(path: str, *, empty_version_nullable: bool = False) -> OAS30Validator:
    """A validator for the 200 response of GET `path` (a spec path such as /sales/{sale_id}).

    `empty_version_nullable`: the 2.0 schema types `version.min/max` as integers, but an empty
    page carries nulls (as Lightspeed's newer specs define), so empty pages are checked against
    the schema with only that one change.
    """
    document = spec()
    schema = copy.deepcopy(
        document["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    )
    components = copy.deepcopy(document["components"])
    if empty_version_nullable:
        for name in ("min", "max"):
            components["schemas"]["Version"]["properties"][name]["nullable"] = True
    schema["components"] = components
    return OAS30Validator(schema, format_checker=oas30_format_checker)


def schema_errors(path: str, body: Any) -> list[str]:
    """Every schema violation of a response body, as readable strings."""
    empty = isinstance(body, dict) and body.get("data") == [] and "version" in body
    check = validator(path, empty_version_nullable=empty)
    return [f"{list(e.path)}: {e.message}" for e in check.iter_errors(_plain(body))]


def _plain(value: Any) -> Any:
    """Decimals back to floats: the validator's `number` means JSON numbers."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def cents(value: Decimal) -> Decimal:
    """Round half up to cents, as the store rounds sale totals."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)
