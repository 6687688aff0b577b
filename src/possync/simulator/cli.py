"""`possync simulator`: serve the simulated Lightspeed and Square APIs over HTTP."""

from __future__ import annotations

import click

from possync.config.settings import DEFAULT_SIMULATOR_TOKEN
from possync.simulator.config import DEFAULT_OAUTH_CLIENT_SECRET, SCALES, SimulatorConfig
from possync.simulator.faults import FaultConfig


@click.command("simulator")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8765, show_default=True, type=int, help="Port (0: any free).")
@click.option("--seed", default=1, show_default=True, type=int, help="Same seed, same data.")
@click.option(
    "--scale",
    default="small",
    show_default=True,
    type=click.Choice(SCALES),
    help="Store size: small (tests), medium, large (1M+ sale line items, benchmarks).",
)
@click.option(
    "--token",
    default=DEFAULT_SIMULATOR_TOKEN,
    show_default=True,
    help="The personal token both APIs accept (store k of --stores: TOKEN-k).",
)
@click.option(
    "--stores",
    default=1,
    show_default=True,
    type=click.IntRange(1, 10_000),
    help="Serve N independent stores; store 1 has --scale, the others are smaller and "
    "are built on their first request.",
)
@click.option(
    "--oauth-client-secret",
    default=DEFAULT_OAUTH_CLIENT_SECRET,
    show_default=True,
    help="The client secret the simulated OAuth servers accept (any client id).",
)
@click.option(
    "--faults",
    "fault_spec",
    default="",
    metavar="SPEC",
    help="Faults to inject, e.g. error_rate=0.1,reset_rate=0.05,latency_ms=20.",
)
@click.option("--rate-limit", is_flag=True, help="Enforce 300 × registers + 50 per window.")
@click.option(
    "--rate-limit-window",
    default=300.0,
    show_default=True,
    type=float,
    help="Rate-limit window in seconds.",
)
@click.option("--lightspeed/--no-lightspeed", default=True, help="Serve Lightspeed.")
@click.option("--square/--no-square", default=True, help="Serve Square.")
def simulator_command(
    host: str,
    port: int,
    seed: int,
    scale: str,
    token: str,
    stores: int,
    oauth_client_secret: str,
    fault_spec: str,
    rate_limit: bool,
    rate_limit_window: float,
    lightspeed: bool,
    square: bool,
) -> None:
    """Serve Lightspeed X-Series API 2.0 at /api/2.0/ and Square at /v2/ over generated data.

    With --stores N, store k answers to the token TOKEN-k (TOKEN is store 1) and Lightspeed
    also at /store-k/api/2.0/.

    OAuth servers (client secret --oauth-client-secret): Lightspeed GET /connect,
    POST /api/1.0/token (or /store-k/api/1.0/token); Square GET /oauth2/authorize,
    POST /oauth2/token, POST /oauth2/revoke.

    Control endpoints (no token; ?store=k picks a store, default 1): POST /_simulator/advance
    {"minutes": N} (all stores), GET /_simulator/truth, GET|POST /_simulator/faults (POST
    without store: every store), GET /_simulator/stats, POST /_simulator/corrupt {"entity":
    "sales", "count": 3}, GET /_simulator/stores, GET /_simulator/oauth.
    """
    from possync.simulator.app import LIGHTSPEED_MOUNT
    from possync.simulator.server import serve_forever

    try:
        faults = FaultConfig.parse(fault_spec)
        config = SimulatorConfig(
            seed=seed,
            scale=scale,
            token=token,
            stores=stores,
            oauth_client_secret=oauth_client_secret,
            faults=faults,
            rate_limit=rate_limit,
            rate_limit_window_seconds=rate_limit_window,
            lightspeed=lightspeed,
            square=square,
        )
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    more = f"; stores 2..{stores} on first use" if stores > 1 else ""
    click.echo(f"building the {scale} store (seed {seed}){more} ...", err=True)

    def announce(base_url: str) -> None:
        # Lines that work pasted into .env: Square's base is the host root (paths add /v2/).
        click.echo("Settings for possync (paste into .env or export):")
        if lightspeed:
            click.echo(f"POSSYNC_LIGHTSPEED_URL={base_url}{LIGHTSPEED_MOUNT}")
            click.echo(f"POSSYNC_LIGHTSPEED_TOKEN={token}")
        if square:
            click.echo(f"POSSYNC_SQUARE_URL={base_url}")
            click.echo(f"POSSYNC_SQUARE_TOKEN={token}")
        if stores > 1:
            click.echo(f"# stores 1..{stores}: tokens {token}-1 .. {token}-{stores}")
        # OAuth facts as comments: pasted into .env they set nothing.
        if lightspeed:
            store_url = f"{base_url}/{{domain_prefix}}"
            click.echo(f"# Lightspeed OAuth: {base_url}/connect; store URL {store_url}")
        if square:
            square_oauth = "/oauth2/authorize, /oauth2/token, /oauth2/revoke"
            click.echo(f"# Square OAuth: {base_url}{square_oauth}")
        click.echo(f"# OAuth client secret: {oauth_client_secret} (any client id)")
        click.echo(f"Control: {base_url}/_simulator/truth")
        if token == DEFAULT_SIMULATOR_TOKEN:
            click.echo(f"(the token is the default, {DEFAULT_SIMULATOR_TOKEN})")
        click.echo("Press Ctrl+C to stop.", err=True)

    try:
        serve_forever(config, host, port, on_ready=announce)
    except KeyboardInterrupt:
        click.echo("stopped", err=True)
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror}") from None
