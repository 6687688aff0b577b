"""What counts as a well-formed page of each endpoint (`possync.sources.shapes`)."""

from __future__ import annotations

from typing import Any

import pytest

from possync.sources.shapes import (
    MalformedPageError,
    lightspeed_categories_shape,
    lightspeed_list_shape,
    page_records,
    square_shape,
)

LIST = lightspeed_list_shape("/products")
CATEGORIES = lightspeed_categories_shape("/product_categories", "categories")
ORDERS = square_shape("orders search", "orders")


@pytest.mark.parametrize(
    ("shape", "payload", "count"),
    [
        (LIST, {"data": [{"id": "a"}], "version": {"min": 1, "max": 1}}, 1),
        (LIST, {"data": [], "version": {"min": None, "max": None}}, 0),
        (LIST, {"data": []}, 0),
        (CATEGORIES, {"data": {"categories": [{"id": "c"}]}, "page_info": {"has_next": False}}, 1),
        (ORDERS, {}, 0),  # Square leaves an empty array out
        (ORDERS, {"cursor": "next"}, 0),  # an empty page that is not the last
        (ORDERS, {"errors": []}, 0),
        (ORDERS, {"orders": [{"id": "o"}], "cursor": "c", "new_field": 1}, 1),
    ],
)
def test_well_formed_pages(shape: Any, payload: Any, count: int) -> None:
    assert len(page_records(payload, shape)) == count


@pytest.mark.parametrize(
    ("shape", "payload", "problem"),
    [
        (LIST, {}, "`data` is missing"),
        (LIST, {"data": None}, "`data` is null, not a list"),
        (LIST, {"error": "Service temporarily unavailable"}, "answered with an error: Service"),
        (LIST, [], "expected a JSON object, got a list"),
        (LIST, None, "expected a JSON object, got null"),
        (LIST, {"data": [1]}, "`data[0]` is a number, not an object"),
        (LIST, {"data": {"id": "a"}}, "`data` is an object, not a list"),
        (CATEGORIES, {}, "`data` is missing"),
        (CATEGORIES, {"data": None}, "`data` is null, not an object"),
        (CATEGORIES, {"data": {}}, "`data.categories` is missing"),
        (CATEGORIES, {"data": {"categories": None}}, "`data.categories` is null, not a list"),
        (ORDERS, {"data": None}, "no `orders` and unexpected keys 'data'"),
        (ORDERS, {"error": "maintenance"}, "answered with an error: maintenance"),
        (ORDERS, {"errors": [{"code": "INTERNAL", "detail": "boom"}]}, "an error: boom"),
        (ORDERS, {"orders": None}, "`orders` is null, not a list"),
        (ORDERS, {"orders": ["o-1"]}, "`orders[0]` is a string, not an object"),
        (ORDERS, "OK", "expected a JSON object, got a string"),
    ],
)
def test_anything_else_is_refused_in_one_line(shape: Any, payload: Any, problem: str) -> None:
    with pytest.raises(MalformedPageError) as raised:
        page_records(payload, shape)
    message = str(raised.value)
    assert message.startswith(f"{shape.where}: not a well-formed page (")
    assert problem in message, message
    assert message.endswith("; nothing was changed")
    assert "\n" not in message
