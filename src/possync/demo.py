"""`possync demo`: the whole product on one laptop, against the simulated stores.

Starts the embedded PostgreSQL (under `<data dir>/demo`, apart from real data), the simulator
of both POS APIs, migrates, runs the historical import of both stores with progress, prints
what it loaded, then serves the dashboard with a generated password.
"""

from __future__ import annotations

import secrets
import signal
import sys
from pathlib import Path

import click

from possync.cli import AppContext, pass_app
from possync.config import Settings
from possync.db import Database, open_database, stop_embedded_server
from possync.migrate import migrate
from possync.progress import ProgressPrinter
from possync.sync import SyncReport, SyncRequest, run_sync


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


def _secret(value: str) -> object:
    from pydantic import SecretStr

    return SecretStr(value)


def run_demo_import(settings: Settings, db: Database) -> list[SyncReport]:
    """Migrate, then import both simulated stores with progress on the terminal."""
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

    with running_simulator(SimulatorConfig(seed=seed, scale=scale)) as sim:
        settings = demo_settings(app.settings, sim.lightspeed_url, sim.square_url, sim.token)
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
    if no_serve:
        return
    from possync.web.serve import serve_dashboard

    assert settings.dashboard_password is not None
    click.echo("")
    click.echo(f"dashboard: http://{host}:{port}/")
    click.echo(f"password:  {settings.dashboard_password.get_secret_value()}")
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
