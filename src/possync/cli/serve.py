"""`possync serve` (dashboard + worker + scheduler) and `possync worker` (workers only)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from possync.cli.context import AppContext


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8080, show_default=True, type=int, help="Port (0: a free one).")
@click.option(
    "--no-worker",
    is_flag=True,
    help="Dashboard only: no worker, no schedules (run `possync worker` elsewhere).",
)
@click.pass_obj
def serve_command(app: AppContext, host: str, port: int, no_worker: bool) -> None:
    """Run the dashboard, a sync worker and the schedules (every shop's) in one process.

    Needs POSSYNC_DASHBOARD_PASSWORD. Ctrl-C stops; a running sync first finishes the entity
    it is on.
    """
    from possync.jobs.worker import one_line_job_logs
    from possync.web.serve import serve_dashboard

    if not app.debug:
        one_line_job_logs()

    def announce(url: str) -> None:
        extra = "" if no_worker else " (with a worker and the schedules)"
        click.echo(f"dashboard: {url}{extra}; press Ctrl-C to stop", err=True)

    serve_dashboard(
        app.base_settings,
        app.control_database,
        host=host,
        port=port,
        worker=not no_worker,
        on_ready=announce,
    )


@click.command("worker")
@click.option(
    "--concurrency",
    type=click.IntRange(1, 32),
    default=None,
    help="Jobs run at once [default: POSSYNC_WORKER_CONCURRENCY].",
)
@click.option(
    "--schedules",
    is_flag=True,
    help="Also run the schedules: the dispatcher that queues every shop's periodic syncs "
    "(safe on any number of workers: each scheduled run is queued once).",
)
@click.pass_obj
def worker_command(app: AppContext, concurrency: int | None, schedules: bool) -> None:
    """Run sync jobs from the queue until Ctrl-C or SIGTERM. Start as many as you like, on any
    machines, against one database: two workers never sync the same shop's source at once,
    and each keeps one of its slots from imports (see docs/jobs.md)."""
    from possync.db.access import ensure_schema_exists
    from possync.db.connection import wait_for_database
    from possync.db.jobs_schema import job_queue_schema_exists
    from possync.errors import SchemaMissingError
    from possync.jobs.worker import one_line_job_logs, run_worker

    if not app.debug:
        one_line_job_logs()
    settings = app.base_settings
    if concurrency is not None:
        settings = settings.model_copy(update={"worker_concurrency": concurrency})
    wait_for_database(
        app.control_database,
        settings.database_wait_seconds,
        say=lambda line: click.echo(line, err=True),
    )
    with app.control_database.connect() as conn:
        ensure_schema_exists(conn, app.control_database.schema)
        if not job_queue_schema_exists(conn):
            raise SchemaMissingError("the job queue's tables are missing: run `possync migrate`")
    click.echo(
        f"worker: {settings.worker_concurrency} job(s) at a time on {app.control_database.display}"
        f"{', with schedules' if schedules else ''}; press Ctrl-C to stop",
        err=True,
    )
    run_worker(settings, app.control_database, schedules=schedules)
