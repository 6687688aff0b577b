"""`possync migrate` and `possync status`: the schema, and where each entity stands."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from possync.cli.context import AppContext, pass_app
from possync.cli.errors import UNHEALTHY_EXIT
from possync.cli.options import shop_option
from possync.db.access import ensure_schema_exists


@click.command("migrate")
@click.option("--json", "as_json", is_flag=True, help="Print the applied migrations as JSON.")
@pass_app
def migrate_command(app: AppContext, as_json: bool) -> None:
    """Create or upgrade possync's tables and views, and every shop's. Safe to run any number
    of times."""
    from possync.shops.schemas import migrate_everything

    database = app.control_database
    by_schema = migrate_everything(database, app.base_settings)
    applied = [m for migrations in by_schema.values() for m in migrations]
    if as_json:
        answer: dict[str, Any] = {
            "applied": [f"{m.version:04d}_{m.name}" for m in by_schema[database.schema]]
        }
        shops = {schema: found for schema, found in by_schema.items() if schema != database.schema}
        if shops:  # each shop's schema, when shops are registered
            answer["shops"] = {
                schema: [f"{m.version:04d}_{m.name}" for m in found]
                for schema, found in shops.items()
            }
        click.echo(json.dumps(answer))
    elif applied:
        for schema, migrations in by_schema.items():
            where = "" if schema == database.schema else f" to {schema}"
            for migration in migrations:
                click.echo(f"applied {migration.version:04d}_{migration.name}{where}")
        click.echo(f"database {database.display} is up to date")
    else:
        click.echo(f"nothing to do: database {database.display} is up to date")


@click.command("status")
@click.option("--source", help="Only this source (lightspeed or square).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@shop_option
@pass_app
def status_command(app: AppContext, source: str | None, as_json: bool) -> None:
    """Show each synced entity: last success, status and health colour.

    Exits 0 when no entity is red, 3 when any is (the reasons follow the table), 1 or 2 when
    the status could not be read.
    """
    from possync.health.status import RED, read_entity_statuses, summarize_failures

    with app.database.connect() as conn:
        ensure_schema_exists(conn, app.database.schema)
        rows = read_entity_statuses(conn, app.settings, source=source)
    red = [row for row in rows if row.health == RED]
    if as_json:
        click.echo(json.dumps({"entities": [row.to_json() for row in rows]}, indent=2))
    elif not rows:
        click.echo("no syncs yet: run `possync sync` (or `possync demo` to try the simulator)")
    else:
        _print_status_table(rows, app.settings.timezone)
        for line in summarize_failures(red):
            click.echo(line)
    if red:
        sys.exit(UNHEALTHY_EXIT)


def _print_status_table(rows: list[Any], timezone: str) -> None:
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(timezone)
    click.echo(
        f"{'SOURCE':<11} {'ENTITY':<24} {'HEALTH':<7} {'STATUS':<13} "
        f"{'LAST SUCCESS (' + timezone + ')':<26} ROWS"
    )
    for row in rows:
        last = (
            row.last_sync_time.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")
            if row.last_sync_time
            else "never"
        )
        click.echo(
            f"{row.source:<11} {row.entity_type:<24} {row.health:<7} {row.status:<13} "
            f"{last:<26} {row.records_total:,}"
        )
