"""`possync sync` and `possync check`: run a sync with progress, or verify the setup."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from datetime import date
from typing import Any

import click

from possync.cli.context import AppContext, pass_app
from possync.cli.options import parse_date_option, shop_option
from possync.cli.progress import ProgressPrinter
from possync.db.access import ensure_schema_exists
from possync.engine.quarantine import retry_quarantined
from possync.engine.run import SyncReport, SyncRequest, run_sync
from possync.errors import PossyncError
from possync.health.status import fix_for
from possync.shops.oauth.tokens import renewing_source
from possync.sources.base import Source
from possync.sources.http import RetryPolicy
from possync.sources.lightspeed.source import NO_BACKFILL
from possync.sources.registry import SOURCES, configured_sources, open_source, resolve_entities


@click.command("sync")
@click.option(
    "--source",
    "sources",
    multiple=True,
    type=click.Choice(SOURCES),
    help="Source to sync (repeatable). Default: every configured source.",
)
@click.option("--entity", "entities", multiple=True, help="Only these entities (repeatable).")
@click.option("--full", is_flag=True, help="Re-read everything from the start (full refresh).")
@click.option("--dry-run", is_flag=True, help="Fetch and validate, write nothing.")
@click.option(
    "--force",
    is_flag=True,
    help="Keep going even when many records fail validation, or when a complete snapshot would "
    "mark more than POSSYNC_MAX_DELETE_RATIO of an entity's rows deleted.",
)
@click.option(
    "--since",
    callback=parse_date_option,
    help="Backfill Square orders from this date (Lightspeed has no date range: use --full).",
)
@click.option(
    "--until",
    callback=parse_date_option,
    help="Backfill Square orders up to this date (inclusive).",
)
@click.option(
    "--retry-quarantined",
    is_flag=True,
    help="Instead of syncing, validate the records in quarantine again (their stored "
    "payloads); load and release those that now pass.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@shop_option
@pass_app
def sync_command(
    app: AppContext,
    sources: tuple[str, ...],
    entities: tuple[str, ...],
    full: bool,
    dry_run: bool,
    force: bool,
    since: date | None,
    until: date | None,
    retry_quarantined: bool,
    as_json: bool,
) -> None:
    """Copy new and changed records from the POS into PostgreSQL.

    Without --source, every configured source is synced. Exits 1 when any entity failed.
    Progress per entity: records, pages, rate, and an ETA when a total can be estimated
    (--full expects about as many records as are stored; neither POS reports a total,
    so other runs show "ETA ?").
    """
    settings = app.settings
    chosen = sources or configured_sources(settings)
    if not chosen:
        raise PossyncError(
            "no source is configured: set POSSYNC_LIGHTSPEED_TOKEN and "
            "POSSYNC_LIGHTSPEED_DOMAIN_PREFIX, or POSSYNC_SQUARE_TOKEN"
        )
    if retry_quarantined:
        if full or dry_run or force or since or until:
            raise PossyncError(
                "--retry-quarantined only re-validates what is in quarantine: "
                "use it without --full, --dry-run, --force, --since or --until"
            )
        _retry_quarantined(app, chosen, entities, as_json)
        return
    if since or until:
        chosen = _backfill_sources(sources, chosen)
        if not entities:
            entities = ("orders",)
    printer = None if as_json else ProgressPrinter(interactive=sys.stdout.isatty())
    reports: list[SyncReport] = []
    for source in chosen:
        request = SyncRequest(source, entities, full, dry_run, force, since, until)
        api = _oauth_source(app, source)  # an OAuth connection renews its token on a 401
        try:
            reports.append(
                run_sync(settings, app.database, request, on_progress=printer, source=api)
            )
        finally:
            if api is not None:
                api.close()
        _after_sync(app, reports[-1])
    if as_json:
        click.echo(json.dumps([_report_json(r) for r in reports], indent=2))
    else:
        for report in reports:
            _print_summary(report)
    if not all(report.ok for report in reports):
        sys.exit(1)


def _retry_quarantined(
    app: AppContext, sources: tuple[str, ...], entities: tuple[str, ...], as_json: bool
) -> None:
    results = []
    with app.database.connect() as conn:
        ensure_schema_exists(conn, app.database.schema)
        for source in sources:
            results.extend(retry_quarantined(conn, source, resolve_entities(source, entities)))
    shown = [r for r in results if r.retried or r.skipped]
    if as_json:
        click.echo(json.dumps([asdict(r) | {"remaining": r.remaining} for r in shown], indent=2))
    elif not shown:
        click.echo("no quarantined record to retry")
    for r in [] if as_json else shown:
        what = r.skipped or f"{r.released} of {r.retried} now load; {r.remaining} stay quarantined"
        click.echo(f"{r.source} {r.entity}: {what}")
    if any(r.skipped for r in results):
        sys.exit(1)


def _oauth_source(app: AppContext, source: str) -> Source | None:
    if not app.settings.shop_name:  # the environment's own shop: personal tokens
        return None
    return renewing_source(app.control_database, app.base_settings, app.shop, app.settings, source)


def _backfill_sources(asked: tuple[str, ...], chosen: tuple[str, ...]) -> tuple[str, ...]:
    """The sources a --since/--until backfill runs on: Square only. Asking for Lightspeed
    is refused (it would read nothing of the range and call that a backfill)."""
    if "lightspeed" in asked or "square" not in chosen:
        raise PossyncError(NO_BACKFILL)
    return ("square",)


def _after_sync(app: AppContext, report: SyncReport) -> None:
    """Alerts after a run; a failing notifier never fails a sync."""
    if report.dry_run:
        return
    from possync.notify import after_sync

    try:
        after_sync(app.settings, app.database, report)
    except Exception as exc:  # alerts must never turn a good sync into a failure
        click.echo(f"warning: alerts could not be sent: {type(exc).__name__}", err=True)


def _report_json(report: SyncReport) -> dict[str, Any]:
    return {
        "source": report.source,
        "dry_run": report.dry_run,
        "ok": report.ok,
        "rollup_error": report.rollup_error,
        "entities": [
            {
                "entity": r.entity,
                "status": r.status,
                "action": r.action,
                "records": r.records,
                "pages": r.pages,
                "requests": r.requests,
                "retries": r.retries,
                "quarantined": r.quarantined,
                "duration_seconds": round(r.duration_seconds, 3),
                "error": r.error,
                "run_id": str(r.run_id),
            }
            for r in report.results
        ],
    }


def _print_summary(report: SyncReport) -> None:
    mode = " (dry run: nothing written)" if report.dry_run else ""
    click.echo(f"\n{report.source}{mode}")
    click.echo(
        f"  {'ENTITY':<20} {'STATUS':<10} {'RECORDS':>9} {'PAGES':>6} {'QUAR':>5} {'SECS':>7}"
    )
    for r in report.results:
        click.echo(
            f"  {r.entity:<20} {r.status:<10} {r.records:>9} {r.pages:>6} {r.quarantined:>5} "
            f"{r.duration_seconds:>7.1f}"
        )
        if r.error:
            click.echo(f"    {r.error}")
    total = sum(r.records for r in report.results)
    seconds = sum(r.duration_seconds for r in report.results)
    click.echo(f"  {total} records in {seconds:.1f}s")
    if report.rollup_error:
        click.echo(
            f"warning: the business pages' figures were not refreshed ({report.rollup_error}); "
            "the data is stored, and the next sync or page view refreshes them",
            err=True,
        )


NO_SOURCE_DETAIL = (
    "no source is configured: set POSSYNC_LIGHTSPEED_TOKEN and POSSYNC_LIGHTSPEED_DOMAIN_PREFIX "
    "(or POSSYNC_LIGHTSPEED_URL), and/or POSSYNC_SQUARE_TOKEN (with POSSYNC_SQUARE_URL for the "
    "sandbox); `possync simulator` prints settings to try"
)


@click.command("check")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@shop_option
@pass_app
def check_command(app: AppContext, as_json: bool) -> None:
    """Verify the database and each configured source's token; say what is wrong."""
    results: list[dict[str, Any]] = []
    try:
        with app.database.connect() as conn:
            ensure_schema_exists(conn, app.database.schema)
        results.append({"check": "database", "ok": True, "detail": app.database.display})
    except PossyncError as exc:
        results.append({"check": "database", "ok": False, "detail": str(exc)})
    sources = configured_sources(app.settings)
    if not sources:
        results.append({"check": "sources", "ok": False, "detail": NO_SOURCE_DETAIL})
    for name in sources:
        try:
            # A check answers fast: one retry, no long waits on a rate limit.
            source = open_source(
                app.settings,
                name,
                retry=RetryPolicy(max_attempts=2, max_rate_limited_waits=1, max_retry_after=5),
            )
            try:
                detail = source.check()
            finally:
                source.close()
            results.append({"check": name, "ok": True, "detail": detail})
        except PossyncError as exc:
            fix = fix_for(name, str(exc))
            detail = f"{exc}; fix: {fix}" if fix else str(exc)
            results.append({"check": name, "ok": False, "detail": detail})
    if as_json:
        click.echo(json.dumps({"checks": results}, indent=2))
    else:
        for item in results:
            mark = "ok  " if item["ok"] else "FAIL"
            click.echo(f"{mark} {item['check']}: {item['detail']}")
    if not all(item["ok"] for item in results):
        sys.exit(1)
