"""`possync reconcile`: the POS's own daily counts and totals against the database's."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from datetime import date
from typing import Any

import click
import psycopg

from possync.cli.context import AppContext, pass_app
from possync.cli.options import parse_date_option, shop_option
from possync.engine.reconcile import (
    ReconcileReport,
    alert_on_report,
    describe_differences,
    reconcile,
    record_reconcile,
)
from possync.errors import PossyncError
from possync.sources.registry import SOURCES, configured_sources


@click.command("reconcile")
@click.option(
    "--source",
    "sources",
    multiple=True,
    type=click.Choice(SOURCES),
    help="Source to check (repeatable). Default: every configured source.",
)
@click.option(
    "--days",
    type=click.IntRange(1, 366),
    default=7,
    show_default=True,
    help="How many local business days to compare, ending --until.",
)
@click.option("--until", callback=parse_date_option, help="Last day to compare (default: today).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@shop_option
@pass_app
def reconcile_command(
    app: AppContext, sources: tuple[str, ...], days: int, until: date | None, as_json: bool
) -> None:
    """Compare, per outlet/location and day, the POS's counts and money with the database.

    Records the result in sync_log (action `reconcile`), alerts on a mismatch, and exits 1
    when one is found, 3 when the window held no sales on either side (nothing was compared).
    "Today" is the POS's today, read from its clock.
    """
    chosen = sources or configured_sources(app.settings)
    if not chosen:
        raise PossyncError("no source is configured: nothing to reconcile")
    reports = []
    for source in chosen:
        report = reconcile(app.settings, app.database, source, days=days, until=until)
        record_reconcile(app.database, report)
        alert_on_report(app.settings, app.database, report)
        reports.append(report)
    if as_json:
        click.echo(json.dumps([r.to_json() for r in reports], indent=2))
    else:
        with app.database.connect() as conn:
            for report in reports:
                _print(conn, report)
    if not all(r.ok for r in reports):
        sys.exit(1)
    if any(r.compared_nothing for r in reports):
        sys.exit(NOTHING_COMPARED_EXIT)


NOTHING_COMPARED_EXIT = 3


def _print(conn: psycopg.Connection[Any], report: ReconcileReport) -> None:
    window = f"{report.source}: {report.first_day} to {report.last_day}"
    if report.compared_nothing:
        click.echo(
            f"{window}: nothing compared: neither the POS nor the database has a closed sale "
            "in these days (choose others with --until and --days)"
        )
        return
    verdict = "matches" if report.ok else f"{len(report.differences)} difference(s)"
    places = "location-days" if report.source == "square" else "outlet-days"
    click.echo(f"{window}, {report.days_checked} {places} checked: {verdict}")
    differences = [asdict(d) for d in report.differences]
    describe_differences(conn, report.source, differences)  # names; money in currency units
    for d in differences:
        click.echo(
            f"  {d['location_name']} {d['business_date']} {d['field']}: "
            f"POS {d['pos_text']}, database {d['database_text']}"
        )
