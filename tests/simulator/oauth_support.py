"""Helpers for the OAuth tests: go through a simulated consent page as a browser would."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import httpx

CALLBACK = "http://127.0.0.1:9/oauth/callback"
HIDDEN_INPUT = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')
FORM_ACTION = re.compile(r'<form method="post" action="([^"]+)">')


def consent(
    base_url: str, path: str, params: dict[str, str], *, store: int | None, allow: bool = True
) -> dict[str, str]:
    """GET the consent page, submit its form (Allow or Deny, with `store` typed in unless
    None), and return the query the redirect carries back to the app."""
    page = httpx.get(base_url + path, params=params)
    assert page.status_code == 200, page.text
    assert 'name="store"' in page.text and ">Allow</button>" in page.text
    action = FORM_ACTION.search(page.text)
    assert action is not None
    form = {name: unescape(value) for name, value in HIDDEN_INPUT.findall(page.text)}
    form["decision"] = "allow" if allow else "deny"
    if store is not None:
        form["store"] = str(store)
    answer = httpx.post(base_url + unescape(action.group(1)), data=form)
    assert answer.status_code == 302, answer.text
    location = urlsplit(answer.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == params["redirect_uri"]
    return {key: values[0] for key, values in parse_qs(location.query).items()}
