"""The simulated vendors' OAuth servers, served at the simulator's own address.

Lightspeed: `GET /connect` (consent page), `POST /api/1.0/token` (also under a domain-prefix
segment, `/store-k/api/1.0/token`). Square: `GET /oauth2/authorize`, `POST /oauth2/token`,
`POST /oauth2/revoke`. `OAuthAuthority` remembers what they issued; the app asks it whether an
access token opens a store.
"""

from __future__ import annotations

from werkzeug.wrappers import Request, Response

from possync.simulator.oauth.grants import AccessCheck, AccessStatus, OAuthAuthority
from possync.simulator.oauth.lightspeed import CONNECT_PATH, TOKEN_PATH, LightspeedOAuth
from possync.simulator.oauth.square import SquareOAuth

__all__ = [
    "TOKEN_PATH",
    "AccessCheck",
    "AccessStatus",
    "LightspeedOAuth",
    "OAuthAuthority",
    "OAuthServers",
    "SquareOAuth",
]


class OAuthServers:
    """Routes the OAuth paths of whichever vendors the simulator serves."""

    def __init__(self, lightspeed: LightspeedOAuth | None, square: SquareOAuth | None) -> None:
        self.lightspeed = lightspeed
        self.square = square

    def answer(self, request: Request, path: str) -> Response | None:
        """The response for an OAuth path (no domain prefix), or None if `path` is not one."""
        if self.lightspeed is not None:
            if path == CONNECT_PATH:
                return self.lightspeed.connect(request)
            if path == TOKEN_PATH:
                return self.lightspeed.token(request, prefix_store=None)
        if self.square is not None:
            if path == "/oauth2/authorize":
                return self.square.authorize(request)
            if path == "/oauth2/token":
                return self.square.token(request)
            if path == "/oauth2/revoke":
                return self.square.revoke(request)
        return None
