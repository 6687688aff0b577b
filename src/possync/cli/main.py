"""The `possync` command line: the group, its global options, and every command added to it.

Settings are loaded once, on first use, by `context.AppContext`; `errors.PossyncGroup` turns
every failure into one line and an exit code.
"""

from __future__ import annotations

import logging

import click

from possync import __version__
from possync.cli.context import AppContext
from possync.cli.errors import PossyncGroup
from possync.cli.status import migrate_command, status_command


@click.group(cls=PossyncGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="possync")
@click.option("--debug", is_flag=True, help="Show tracebacks and debug logs.")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """possync: copy your Lightspeed or Square POS data into your own PostgreSQL."""
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # psycopg warns when it cannot close a pipeline on a connection already lost: possync
    # reports that failure itself, in one line.
    logging.getLogger("psycopg").setLevel(logging.NOTSET if debug else logging.ERROR)
    ctx.obj = AppContext(debug)


def _register_commands() -> None:
    """Commands that live in their own modules (one line each)."""
    main.add_command(migrate_command)
    main.add_command(status_command)
    from possync.cli.sync import check_command, sync_command

    main.add_command(sync_command)
    main.add_command(check_command)
    from possync.cli.reconcile import reconcile_command

    main.add_command(reconcile_command)
    from possync.cli.demo import demo_command

    main.add_command(demo_command)
    from possync.cli.alerts import alerts_command

    main.add_command(alerts_command)
    from possync.simulator.cli import simulator_command

    main.add_command(simulator_command)
    from possync.cli.serve import serve_command, worker_command

    main.add_command(serve_command)
    main.add_command(worker_command)
    from possync.cli.queue import queue_command

    main.add_command(queue_command)
    from possync.cli.grant import grant_command

    main.add_command(grant_command)
    from possync.cli.shops import shops_command

    main.add_command(shops_command)


_register_commands()
