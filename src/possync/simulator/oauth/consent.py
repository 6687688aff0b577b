"""The simulated vendors' consent pages: the request checked, a form with a `store` field and
"Allow"/"Deny", and the redirect back to the app carrying the code (or the refusal).

An invalid request is answered with an error page and never redirected: the redirect URI itself
may be what is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from urllib.parse import urlencode, urlsplit, urlunsplit

from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response


class ConsentError(Exception):
    """The authorization request cannot be shown or granted (answered 400, no redirect)."""


@dataclass(frozen=True)
class ConsentRequest:
    """The parameters an app sent to the authorize page, checked."""

    client_id: str
    redirect_uri: str
    scope: str
    state: str | None
    extra: dict[str, str]  # other parameters the form must carry back (e.g. response_type)


def read_consent_request(
    args: MultiDict[str, str], *, extra_names: tuple[str, ...]
) -> ConsentRequest:
    """The request's parameters; ConsentError names the first missing or invalid one."""
    for name in ("client_id", "redirect_uri", "scope"):
        if not args.get(name, "").strip():
            raise ConsentError(f"the {name} parameter is required")
    redirect_uri = args["redirect_uri"]
    parts = urlsplit(redirect_uri)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConsentError("redirect_uri must be an http:// or https:// URL")
    extra = {name: args[name] for name in extra_names if name in args}
    return ConsentRequest(args["client_id"], redirect_uri, args["scope"], args.get("state"), extra)


def chosen_store(form: MultiDict[str, str], stores: int) -> int:
    """The store number typed on the consent page (default 1), within 1..stores."""
    raw = form.get("store", "1").strip() or "1"
    if not raw.isdigit() or not 1 <= int(raw) <= stores:
        raise ConsentError(f"store must be a whole number from 1 to {stores}")
    return int(raw)


def consent_page(title: str, request: ConsentRequest, action: str, stores: int) -> Response:
    """The page a shop owner sees: what the app asks for, which store, Allow or Deny."""
    hidden = {
        "client_id": request.client_id,
        "redirect_uri": request.redirect_uri,
        "scope": request.scope,
        **({"state": request.state} if request.state is not None else {}),
        **request.extra,
    }
    fields = "\n".join(
        f'<input type="hidden" name="{escape(name)}" value="{escape(value)}">'
        for name, value in hidden.items()
    )
    scopes = "".join(f"<li><code>{escape(s)}</code></li>" for s in request.scope.split())
    body = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title></head>
<body>
<h1>{escape(title)}</h1>
<p>The app <strong>{escape(request.client_id)}</strong> asks for access to your store:</p>
<ul>{scopes}</ul>
<form method="post" action="{escape(action)}">
{fields}
<label for="store">Store (1 to {stores})</label>
<input id="store" name="store" type="number" min="1" max="{stores}" value="1">
<button type="submit" name="decision" value="allow">Allow</button>
<button type="submit" name="decision" value="deny">Deny</button>
</form>
<p>This is possync's simulator: no account, no password.</p>
</body></html>
"""
    return Response(body, mimetype="text/html")


def error_page(title: str, message: str) -> Response:
    """A 400 page for a request that cannot be authorized."""
    body = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}'
        f"</title></head><body><h1>{escape(title)}</h1><p>{escape(message)}</p></body></html>\n"
    )
    return Response(body, status=400, mimetype="text/html")


def redirect_back(redirect_uri: str, params: dict[str, str | None]) -> Response:
    """302 to the app's redirect URI with `params` added to its query (None values left out)."""
    parts = urlsplit(redirect_uri)
    added = urlencode({k: v for k, v in params.items() if v is not None})
    query = f"{parts.query}&{added}" if parts.query else added
    location = urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))
    response = Response("", status=302)
    response.headers["Location"] = location
    return response
