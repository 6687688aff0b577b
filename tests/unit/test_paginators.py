"""Every paginator against a scripted API (the real `ApiClient` over `httpx.MockTransport`):
the requests it sends, the records and cursors it hands the engine, and the one-line error
when the API's cursor does not move (a stuck cursor would loop forever or skip records)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from possync.errors import PaginationError
from possync.sources.http import ApiClient
from possync.sources.paginators import walk_id_cursor, walk_versions
from possync.sources.shapes import MalformedPageError
from possync.sources.square.api import call
from possync.sources.square.walk import walk_query
from tests.support.scripted_api import Answer, ScriptedApi, page


def _records(*versions: int) -> list[dict[str, Any]]:
    return [{"id": f"s{v}", "version": v} for v in versions]


def _ids(pages: list[Any]) -> list[list[str]]:
    return [[record["id"] for record in p.records] for p in pages]


# walk_versions: Lightspeed 2.0 collections, `after` = the last page's version.max


def test_versions_walk_follows_version_max_until_an_empty_page() -> None:
    api = ScriptedApi(
        page(data=_records(1, 2, 3), version={"min": 1, "max": 3}),
        page(data=_records(7, 9), version={"min": 7, "max": 9}),
        page(data=[], version={"min": None, "max": None}),
    )
    with api.client() as client:
        pages = list(
            walk_versions(client, "/sales", after=0, page_size=3, extra_params={"deleted": True})
        )
    assert _ids(pages) == [["s1", "s2", "s3"], ["s7", "s9"]]
    assert [p.cursor.last_version for p in pages] == [3, 9]
    assert api.paths == ["/sales"] * 3
    assert api.params("after") == ["0", "3", "9"]
    assert api.params("page_size") == ["3"] * 3
    assert api.params("deleted") == ["true"] * 3  # booleans as the API spells them


def test_versions_walk_without_version_max_uses_the_highest_record_version() -> None:
    api = ScriptedApi(
        page(data=_records(4, 12, 8), version={"min": 4, "max": None}),
        page(data=[], version={}),
    )
    with api.client() as client:
        pages = list(walk_versions(client, "/products", after=2, page_size=100))
    assert [p.cursor.last_version for p in pages] == [12]
    assert api.params("after") == ["2", "12"]


def test_versions_walk_refuses_a_stuck_cursor() -> None:
    # The second page answers the same version.max as the first: asking again would loop.
    api = ScriptedApi(
        page(data=_records(1, 2), version={"max": 5}),
        page(data=_records(3), version={"max": 5}),
    )
    seen: list[list[str]] = []
    with api.client() as client, pytest.raises(PaginationError) as refused:
        for p in walk_versions(client, "/sales", after=0, page_size=2):
            seen.append([record["id"] for record in p.records])
    assert str(refused.value) == "GET /sales: cursor did not advance (after=5, version.max=5)"
    assert seen == [["s1", "s2"]]  # the stuck page is never handed over
    assert api.params("after") == ["0", "5"]
    assert api.unanswered == 0


def test_versions_walk_refuses_a_cursor_that_goes_back() -> None:
    api = ScriptedApi(page(data=_records(3), version={"max": 4}))
    with api.client() as client, pytest.raises(PaginationError) as refused:
        list(walk_versions(client, "/customers", after=10, page_size=2))
    assert str(refused.value) == "GET /customers: cursor did not advance (after=10, version.max=4)"


def test_versions_walk_refuses_records_without_any_version() -> None:
    api = ScriptedApi(page(data=[{"id": "a"}], version={}))
    with api.client() as client, pytest.raises(PaginationError) as refused:
        list(walk_versions(client, "/outlets", after=0, page_size=2))
    assert str(refused.value) == "GET /outlets: cursor did not advance (after=0, version.max=None)"


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"data": None, "version": {"max": 3}}, "`data` is null, not a list"),
        ({"version": {"max": 3}}, "`data` is missing"),
        ({"data": _records(1), "version": {"max": "3"}}, "`version.max` is '3', not an integer"),
    ],
)
def test_versions_walk_fails_on_an_answer_that_is_not_a_page(
    body: dict[str, Any], problem: str
) -> None:
    api = ScriptedApi(Answer(200, body))
    with api.client() as client, pytest.raises(MalformedPageError) as refused:
        list(walk_versions(client, "/sales", after=0, page_size=2))
    assert str(refused.value) == (
        f"GET /sales: not a well-formed page ({problem}); nothing was changed"
    )


# walk_id_cursor: Lightspeed product categories, `after` = page_info.last_seen


def _categories(*ids: str, has_next: bool, last_seen: str | None) -> Answer:
    return page(
        data={"categories": [{"id": i, "name": f"Category {i}"} for i in ids]},
        page_info={"has_next": has_next, "last_seen": last_seen},
    )


def test_id_cursor_walk_follows_last_seen_and_marks_only_the_last_page_complete() -> None:
    api = ScriptedApi(
        _categories("c1", "c2", has_next=True, last_seen="c2"),
        _categories("c3", "c4", has_next=True, last_seen="c4"),
        _categories("c5", has_next=False, last_seen="c5"),
    )
    with api.client() as client:
        pages = list(
            walk_id_cursor(client, "/product_categories", page_size=2, list_key="categories")
        )
    assert _ids(pages) == [["c1", "c2"], ["c3", "c4"], ["c5"]]
    assert [p.complete_snapshot for p in pages] == [False, False, True]
    assert api.params("after") == [None, "c2", "c4"]  # no `after` on the first request
    assert api.params("page_size") == ["2"] * 3


def test_id_cursor_walk_refuses_a_cursor_seen_before() -> None:
    api = ScriptedApi(
        _categories("c1", "c2", has_next=True, last_seen="c2"),
        _categories("c3", "c4", has_next=True, last_seen="c4"),
        _categories("c1", "c2", has_next=True, last_seen="c2"),  # back to the first cursor
    )
    handed_over: list[bool] = []
    with api.client() as client, pytest.raises(PaginationError) as refused:
        for p in walk_id_cursor(client, "/product_categories", page_size=2, list_key="categories"):
            handed_over.append(p.complete_snapshot)
    assert str(refused.value) == "GET /product_categories: cursor 'c2' repeats or is missing"
    # No page claimed to complete the snapshot: nothing may be marked deleted.
    assert handed_over == [False, False]
    assert api.params("after") == [None, "c2", "c4"]


def test_id_cursor_walk_refuses_more_pages_without_a_cursor() -> None:
    api = ScriptedApi(_categories("c1", has_next=True, last_seen=None))
    with api.client() as client, pytest.raises(PaginationError) as refused:
        list(walk_id_cursor(client, "/product_categories", page_size=2, list_key="categories"))
    assert str(refused.value) == "GET /product_categories: cursor None repeats or is missing"


def test_id_cursor_walk_fails_when_has_next_is_not_a_boolean() -> None:
    api = ScriptedApi(
        page(data={"categories": []}, page_info={"has_next": "no", "last_seen": None})
    )
    with api.client() as client, pytest.raises(MalformedPageError) as refused:
        list(walk_id_cursor(client, "/product_categories", page_size=2, list_key="categories"))
    assert "`page_info.has_next` is 'no', not true or false" in str(refused.value)


# walk_query: Square's list and search endpoints, `cursor` until there is none


def _orders(client: ApiClient, **walk: Any) -> list[Any]:
    def fetch(start_from: str | None, cursor: str | None) -> dict[str, Any]:
        query = {"filter": {"created_at": {"start_at": start_from}}} if start_from else {}
        return call(client, "POST", "/v2/orders/search", body={"query": query, "cursor": cursor})

    return list(walk_query(fetch, list_key="orders", where="orders search", **walk))


def _sent_bodies(api: ScriptedApi) -> list[dict[str, Any]]:
    return [json.loads(request.content) for request in api.requests]


def _sent_cursors(api: ScriptedApi) -> list[Any]:
    return [body.get("cursor") for body in _sent_bodies(api)]


def test_square_walk_follows_the_cursor_until_there_is_none() -> None:
    api = ScriptedApi(
        page(orders=[{"id": "o1"}, {"id": "o2"}], cursor="k1"),
        page(orders=[{"id": "o3"}], cursor="k2"),
        page(),  # Square leaves an empty list out
    )
    with api.client() as client:
        pages = _orders(client)
    assert _ids(pages) == [["o1", "o2"], ["o3"], []]
    assert [p.next_cursor for p in pages] == ["k1", "k2", None]
    assert _sent_cursors(api) == [None, "k1", "k2"]


def test_square_walk_refuses_a_repeated_cursor() -> None:
    api = ScriptedApi(
        page(orders=[{"id": "o1"}], cursor="k1"),
        page(orders=[{"id": "o2"}], cursor="k1"),
    )
    with api.client() as client, pytest.raises(PaginationError) as refused:
        _orders(client)
    assert str(refused.value) == "orders search: the cursor repeats or is not a string"
    assert len(api.requests) == 2


def test_square_walk_restarts_from_the_last_time_seen_when_the_cursor_expires() -> None:
    expired = Answer(400, {"errors": [{"code": "INVALID_CURSOR", "detail": "expired"}]})
    api = ScriptedApi(
        page(orders=[{"id": "o1", "created_at": "2026-03-01T10:00:00Z"}], cursor="k1"),
        expired,
        page(orders=[{"id": "o1", "created_at": "2026-03-01T10:00:00Z"}, {"id": "o2"}]),
    )
    with api.client() as client:
        pages = _orders(client, start_from="2026-03-01T00:00:00Z", narrow_field="created_at")
    assert _ids(pages) == [["o1"], ["o1", "o2"]]  # o1 read twice: upserts make it harmless
    assert _sent_cursors(api) == [None, "k1", None]
    starts = [body["query"]["filter"]["created_at"]["start_at"] for body in _sent_bodies(api)]
    assert starts == ["2026-03-01T00:00:00Z", "2026-03-01T00:00:00Z", "2026-03-01T10:00:00Z"]
