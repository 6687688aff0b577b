"""`possync alerts`: check health and send what is due, send a test message, show incidents."""

from __future__ import annotations

import json
import sys

import click

from possync.cli.context import AppContext, pass_app
from possync.cli.options import shop_option
from possync.db.access import ensure_schema_exists
from possync.errors import ConfigError
from possync.notify.delivery import describe_channels
from possync.notify.every_shop import ShopAlerts, check_all_shops
from possync.notify.model import AlertOutcome
from possync.notify.service import alert_status, check_health, send_test_message


@click.group("alerts")
def alerts_command() -> None:
    """Alerts by email, Slack, Teams or any webhook (POSSYNC_NOTIFY_URLS)."""


@alerts_command.command("check")
@click.option("--json", "as_json", is_flag=True, help="Print what was found and sent as JSON.")
@click.option(
    "--all-shops", is_flag=True, help="Check every shop (paused ones excepted), one by one."
)
@shop_option
@pass_app
def check(app: AppContext, as_json: bool, all_shops: bool) -> None:
    """Evaluate sync health now and send the alerts that are due.

    Run it from cron (or let `possync serve` run it) so staleness is noticed even when no sync
    runs. Exits 1 when a due message reached none of the configured channels (with
    --all-shops, also when a shop could not be checked).
    """
    if all_shops:
        _check_every_shop(app, as_json)
        return
    with app.database.connect() as conn:
        ensure_schema_exists(conn, app.database.schema)
    outcome = check_health(app.settings, app.database)
    if as_json:
        click.echo(json.dumps(outcome.to_json(), indent=2))
    else:
        _print_outcome(outcome, configured=bool(app.settings.notify_url_list))
    if outcome.undelivered:
        sys.exit(1)


@alerts_command.command("test")
@click.option("--json", "as_json", is_flag=True, help="Print each channel's result as JSON.")
@shop_option
@pass_app
def test(app: AppContext, as_json: bool) -> None:
    """Send a test message to every configured URL. Exits 1 if any channel failed."""
    delivery = send_test_message(app.settings)
    if as_json:
        channels = [
            {"url": c.position, "service": c.service, "delivered": c.delivered, "error": c.error}
            for c in delivery.channels
        ]
        click.echo(json.dumps({"channels": channels}, indent=2))
    else:
        for channel in delivery.channels:
            click.echo(channel.describe())
    if delivery.failed:
        sys.exit(1)


@alerts_command.command("status")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--limit", default=10, show_default=True, help="How many recent messages to show.")
@shop_option
@pass_app
def status(app: AppContext, as_json: bool, limit: int) -> None:
    """Show the configured channels, open incidents and the latest messages."""
    with app.database.connect() as conn:
        ensure_schema_exists(conn, app.database.schema)
        data = alert_status(conn, limit=limit)
    channels = describe_channels(app.settings)
    if as_json:
        click.echo(json.dumps({"channels": channels, **data}, indent=2))
        return
    if channels:
        click.echo("channels: " + ", ".join(f"#{n} {s}" for n, s in enumerate(channels, 1)))
    else:
        click.echo("channels: none (set POSSYNC_NOTIFY_URLS)")
    if not data["open_incidents"]:
        click.echo("no open incidents")
    for incident in data["open_incidents"]:
        click.echo(
            f"incident #{incident['id']} ({incident['kind']}) open since {incident['opened_at']}"
        )
        for entity in incident["entities"]:
            state = "recovered" if entity["resolved_at"] else entity["problem"]
            detail = f": {entity['detail']}" if entity["detail"] else ""
            click.echo(f"  {entity['source']} {entity['entity']} {state}{detail}")
    for message in data["recent_messages"]:
        click.echo(
            f"{message['sent_at']} {message['kind']:<13} "
            f"{message['delivered']}/{message['channels']} delivered  {message['title']}"
        )


def _check_every_shop(app: AppContext, as_json: bool) -> None:
    if app.shop_name is not None:
        raise ConfigError("give --shop NAME or --all-shops, not both")
    checked = check_all_shops(app.base_settings, app.control_database)
    if as_json:
        click.echo(json.dumps({"shops": [shop.to_json() for shop in checked]}, indent=2))
    else:
        for shop in checked:
            _print_shop(shop)
    if any(shop.outcome.undelivered or shop.outcome.error for shop in checked):
        sys.exit(1)


def _print_shop(shop: ShopAlerts) -> None:
    if shop.paused:
        click.echo(f"{shop.shop}: paused, not checked")
    elif shop.outcome.error is not None:
        click.echo(f"{shop.shop}: could not check: {shop.outcome.error}")
    else:
        _print_outcome(shop.outcome, configured=shop.channels > 0, prefix=f"{shop.shop}: ")


def _print_outcome(outcome: AlertOutcome, *, configured: bool, prefix: str = "") -> None:
    if not outcome.problems:
        click.echo(f"{prefix}all entities healthy")
    for problem in outcome.problems:
        detail = f": {problem.detail}" if problem.detail else ""
        click.echo(f"{prefix}{problem.source} {problem.entity}: {problem.problem}{detail}")
    if not configured:
        click.echo(f"{prefix}no alert channels configured (POSSYNC_NOTIFY_URLS): nothing sent")
    for message in outcome.messages:
        click.echo(f"{prefix}sent {message.kind}: {message.title}")
        for channel in message.delivery.channels:
            click.echo(f"{prefix}  {channel.describe()}")
    if configured and not outcome.messages:
        click.echo(f"{prefix}nothing due")
