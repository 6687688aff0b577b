"""The simulator's control endpoints under `/_simulator/` (no token): time travel, truth,
faults, stats, corruption, stores and OAuth counters.

Endpoints about one store take `?store=k` (default 1, the only store of a one-store
simulator); `advance` is global; `POST /faults` without `store` sets every store's faults.
"""

from __future__ import annotations

from typing import Any, Protocol

import orjson
from werkzeug.wrappers import Request, Response

from possync.simulator.clock import SimClock
from possync.simulator.faults import FaultConfig
from possync.simulator.oauth import OAuthAuthority
from possync.simulator.stores import SimulatedStore, StoreSet


class Simulator(Protocol):
    """What the control endpoints drive (`possync.simulator.app.Simulator`)."""

    clock: SimClock
    stores: StoreSet
    oauth_authority: OAuthAuthority

    def advance(self, minutes: int) -> dict[str, Any]: ...
    def truth(self, store: int = 1) -> dict[str, Any]: ...
    def set_faults(self, config: FaultConfig, store: int | None = None) -> None: ...
    def store(self, number: int) -> SimulatedStore: ...
    def stats(self, store: int | None = None) -> dict[str, int]: ...
    def corrupt(self, api: str, entity: str, count: int, store: int = 1) -> list[str]: ...
    def describe_stores(self) -> list[dict[str, Any]]: ...


def json_response(body: Any, status: int = 200) -> Response:
    """A JSON answer."""
    return Response(orjson.dumps(body), status=status, mimetype="application/json")


def answer_control(simulator: Simulator, request: Request, path: str) -> Response:
    """Answer `/_simulator{path}`; a bad request gets 400 with the reason."""
    try:
        return _control_action(simulator, request, path)
    except (ValueError, TypeError, orjson.JSONDecodeError) as exc:
        return json_response({"error": "Bad Request", "message": str(exc)}, 400)


def _control_action(simulator: Simulator, request: Request, path: str) -> Response:
    method = request.method
    store = _store_param(request)
    store_number = 1 if store is None else store  # one-store endpoints: default 1
    if path == "/advance" and method == "POST":
        body = _json_body(request)
        minutes = body.get("minutes")
        if not isinstance(minutes, int) or isinstance(minutes, bool):
            raise ValueError('send {"minutes": N} with a whole number N >= 0')
        return json_response(simulator.advance(minutes))
    if path == "/truth" and method == "GET":
        return json_response(simulator.truth(store_number))
    if path == "/faults" and method == "POST":
        simulator.set_faults(FaultConfig.from_dict(_json_body(request)), store=store)
        return json_response(simulator.store(store_number).faults.snapshot())
    if path == "/faults" and method == "GET":
        return json_response(simulator.store(store_number).faults.snapshot())
    if path == "/stats" and method == "GET":
        answer: dict[str, Any] = {
            "requests": simulator.stats(store),
            "clock": simulator.clock.now().isoformat(),
        }
        if simulator.stores.count > 1:
            answer["stores_built"] = len(simulator.stores.built())
        return json_response(answer)
    if path == "/corrupt" and method == "POST":
        body = _json_body(request)
        count = body.get("count", 1)
        if not isinstance(count, int) or count < 0:
            raise ValueError("count must be a whole number >= 0")
        api, entity = str(body.get("api", "lightspeed")), str(body.get("entity"))
        return json_response({"corrupted": simulator.corrupt(api, entity, count, store_number)})
    if path == "/stores" and method == "GET":
        return json_response(simulator.describe_stores())
    if path == "/oauth" and method == "GET":
        return json_response(simulator.oauth_authority.counters())
    return json_response({"error": "Not Found", "message": "unknown control endpoint"}, 404)


def _store_param(request: Request) -> int | None:
    raw = request.args.get("store")
    if raw is None:
        return None
    if not raw.isdigit():
        raise ValueError("store must be a whole number")
    return int(raw)


def _json_body(request: Request) -> dict[str, Any]:
    data = request.get_data()
    body = orjson.loads(data) if data.strip() else {}
    if not isinstance(body, dict):
        raise ValueError("send a JSON object")
    return body
