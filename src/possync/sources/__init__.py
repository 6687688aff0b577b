"""POS API sources: HTTP only. A source turns API pages into `Page`s; it never touches the
database (the engine in `possync.engine.run` joins sources to the loader)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

import httpx

from possync.config.settings import Settings
from possync.errors import ConfigError
from possync.sources.base import Page, ReadOptions, RequestStats, StreamState
from possync.sources.http import RetryPolicy


class Source(Protocol):
    name: str

    @property
    def stats(self) -> RequestStats: ...

    def close(self) -> None: ...

    def stream_names(self) -> tuple[str, ...]: ...

    def read_pages(
        self, entity: str, state: StreamState, options: ReadOptions
    ) -> Iterator[Page]: ...

    def check(self) -> str: ...


def open_source(
    settings: Settings,
    name: str,
    *,
    transport: httpx.BaseTransport | None = None,
    retry: RetryPolicy | None = None,
) -> Source:
    """The configured source by name; a one-line ConfigError when it is not set up."""
    if name == "lightspeed":
        from possync.sources.lightspeed import LightspeedSource

        return LightspeedSource(settings, transport=transport, retry=retry)
    if name == "square":
        from possync.sources.square import SquareSource

        source: Source = SquareSource(settings, transport=transport, retry=retry)
        return source
    raise ConfigError(f"unknown source {name!r}: use lightspeed or square")


def configured_sources(settings: Settings) -> tuple[str, ...]:
    """Sources whose URL and token are set."""
    found = []
    if settings.lightspeed_base_url and settings.lightspeed_token is not None:
        found.append("lightspeed")
    if settings.square_token is not None:
        found.append("square")
    return tuple(found)
