"""`possync queue`: queue sync jobs now for the workers, for one shop or every shop."""

from __future__ import annotations

import json
from typing import Any

import click

from possync.cli.context import AppContext, pass_app
from possync.errors import ConfigError
from possync.sources.registry import SOURCES


@click.command("queue")
@click.option("--shop", "shop_name", metavar="NAME", help="The shop (may be left out with one).")
@click.option("--all-shops", is_flag=True, help="Every shop that is not paused.")
@click.option(
    "--source",
    "sources",
    multiple=True,
    type=click.Choice(SOURCES),
    help="Source to sync (repeatable). Default: each shop's sources.",
)
@click.option("--entity", help="Only this entity (needs one --source).")
@click.option("--full", is_flag=True, help="Re-read everything from the start (full refresh).")
@click.option("--json", "as_json", is_flag=True, help="Print what was queued as JSON.")
@pass_app
def queue_command(
    app: AppContext,
    shop_name: str | None,
    all_shops: bool,
    sources: tuple[str, ...],
    entity: str | None,
    full: bool,
    as_json: bool,
) -> None:
    """Queue sync jobs now; `possync worker` (or `serve`) runs them.

    One job per shop and source (or per entity with --entity). A sync of the same shop,
    source and entity already waiting is left as it is ("already queued"). Imports (a source
    never synced, or --full) go to the back of the queue, so workers keep one slot for the
    other shops' syncs.
    """
    from possync.jobs.dispatch import job_shop
    from possync.jobs.queue import JobQueue, source_needs_import
    from possync.shops.resolve import all_shops as every_shop
    from possync.shops.resolve import pick_shop

    if all_shops and shop_name is not None:
        raise click.UsageError("use --shop NAME or --all-shops, not both")
    if entity is not None and len(sources) != 1:
        raise click.UsageError("--entity needs exactly one --source")
    settings, control = app.base_settings, app.control_database
    with control.connect() as conn:
        known = every_shop(conn, settings)
        shops = (
            [s for s in known if not s.paused]
            if all_shops
            else [pick_shop(known, shop_name, settings)]
        )
        if not all_shops and sources and not set(sources) <= set(shops[0].sources):
            missing = ", ".join(sorted(set(sources) - set(shops[0].sources)))
            raise ConfigError(f"shop {shops[0].name} has no {missing} connection")
        plan = [
            (shop, source, source_needs_import(conn, shop.schema_name, source, entity or ""))
            for shop in shops
            for source in shop.sources
            if not sources or source in sources
        ]
    if not plan:
        raise ConfigError("nothing to queue: no shop with a configured source")
    queue = JobQueue(settings, control)
    rows: list[dict[str, Any]] = []
    try:
        for shop, source, importing in plan:
            queued = queue.enqueue_sync(
                source,
                entity or "",
                full=full,
                trigger="queue",
                shop=job_shop(shop),
                first_import=importing,
            )
            rows.append({"shop": shop.name, **queued.to_json(), "import": queued.is_import})
    finally:
        queue.close()
    if as_json:
        click.echo(json.dumps({"jobs": rows}, indent=2))
        return
    for shop in dict.fromkeys(row["shop"] for row in rows):
        click.echo(f"{shop}: " + ", ".join(_describe(r) for r in rows if r["shop"] == shop))
    waiting = sum(1 for row in rows if row["already_queued"])
    click.echo(
        f"queued {len(rows) - waiting} job(s) for {len({r['shop'] for r in rows})} shop(s)"
        + (f"; {waiting} already queued" if waiting else ""),
        err=True,
    )


def _describe(row: dict[str, Any]) -> str:
    what = row["source"] + (f" {row['entity']}" if row["entity"] else "")
    if row["already_queued"]:
        return f"{what} already queued"
    return f"{what} job {row['job_id']}" + (" (import)" if row["import"] else "")
