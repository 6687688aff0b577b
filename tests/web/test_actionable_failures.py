"""Failures people can act on, in the dashboard: one banner per failing source and reason with
the fix (not 15 red cards to read), and a `next=` that can never break the login."""

from __future__ import annotations

from datetime import date

from flask.testing import FlaskClient

from possync.db.connection import Database
from possync.engine.reconcile import ReconcileReport, record_reconcile
from tests.web.conftest import PASSWORD, csrf_from, put_state

REJECTED = (
    "the API rejected the token (401 on GET /outlets): check the token setting and its scopes"
)


def test_a_rejected_token_shows_one_banner_naming_the_source_and_the_fix(
    logged_in: FlaskClient, db: Database
) -> None:
    put_state(db, "lightspeed", "outlets", "failed", None, error=REJECTED)
    status = logged_in.get("/api/status").get_json()
    assert len(status["failures"]) == 1
    failure = status["failures"][0]
    assert failure["source"] == "lightspeed"
    assert failure["entities"] == ["outlets"]
    assert (
        failure["fix"] == "set a valid POSSYNC_LIGHTSPEED_TOKEN (with read access), then sync again"
    )
    assert failure["other_red"] == 14  # every other Lightspeed entity: never synced
    html = logged_in.get("/").get_data(as_text=True)
    banner = html.split('<section class="failures"', 1)[1].split("</section>", 1)[0]
    assert " hidden" not in banner.split(">", 1)[0]
    assert "<b>Lightspeed</b>: 1 entity failed: the API rejected the token" in banner
    assert "Fix: set a valid POSSYNC_LIGHTSPEED_TOKEN" in banner
    assert "14 other Lightspeed entities are red too." in banner


def test_the_banner_groups_entities_that_failed_for_one_reason(
    logged_in: FlaskClient, db: Database
) -> None:
    for entity in ("outlets", "users", "sales"):
        put_state(db, "lightspeed", entity, "failed", None, error=REJECTED)
    put_state(db, "lightspeed", "taxes", "failed", None, error="GET /taxes: HTTP 500: boom")
    failures = logged_in.get("/api/status").get_json()["failures"]
    assert [(f["entities"], f["fix"] is not None) for f in failures] == [
        (["outlets", "users", "sales"], True),  # in sync order
        (["taxes"], False),
    ]


def test_no_banner_when_nothing_failed(logged_in: FlaskClient) -> None:
    html = logged_in.get("/").get_data(as_text=True)
    assert '<section class="failures" data-failures hidden' in html


def test_control_characters_in_next_never_break_the_login(client: FlaskClient) -> None:
    for target in ("/jobs\r\nSet-Cookie: x=1", "/history\n", "/\\evil.example", "/jobs\x00"):
        token = csrf_from(client.get("/login").get_data(as_text=True))
        response = client.post(
            "/login", data={"password": PASSWORD, "csrf_token": token, "next": target}
        )
        assert response.status_code == 302, target
        assert response.headers["Location"] == "/", target
        assert "x=1" not in response.headers.get("Set-Cookie", "")
        client.post(
            "/logout", data={"csrf_token": csrf_from(client.get("/").get_data(as_text=True))}
        )


def test_a_money_check_that_compared_nothing_does_not_say_ok(
    logged_in: FlaskClient, db: Database
) -> None:
    record_reconcile(db, ReconcileReport("lightspeed", date(2026, 12, 1), date(2026, 12, 7)))
    html = logged_in.get("/").get_data(as_text=True)
    card = html.split('data-reconcile="lightspeed"', 1)[1].split("</article>", 1)[0]
    assert 'data-field="verdict">nothing compared<' in card
    assert ">OK<" not in card
