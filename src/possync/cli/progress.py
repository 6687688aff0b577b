"""The progress line of `possync sync`: records, pages, rate and ETA per entity."""

from __future__ import annotations

import time

import click

from possync.engine.run import EntityProgress


class ProgressPrinter:
    """One updating line per entity on a terminal; a plain line every few seconds otherwise."""

    def __init__(self, interactive: bool, interval: float = 5.0) -> None:
        self.interactive = interactive
        self.interval = interval
        self._last_print = 0.0

    def __call__(self, progress: EntityProgress) -> None:
        rate = progress.records / progress.elapsed_seconds if progress.elapsed_seconds else 0.0
        eta = "?"
        if progress.estimated_total and rate > 0:
            left = max(progress.estimated_total - progress.records, 0)
            eta = f"{left / rate:.0f}s"
        line = (
            f"{progress.source} {progress.entity}: {progress.records:,} "
            f"record{'' if progress.records == 1 else 's'}, {progress.pages} "
            f"page{'' if progress.pages == 1 else 's'}, {rate:,.0f} rec/s, ETA {eta}"
        )
        if self.interactive:
            end = "\n" if progress.done else ""
            click.echo(f"\r\033[K{line}", nl=False)
            if end:
                click.echo("")
            return
        now = time.monotonic()
        if progress.done or now - self._last_print >= self.interval:
            self._last_print = now
            click.echo(line)
