"""Three shops synced from a three-store simulator, the way an agency sets them up: the
environment's own shop (store 1, tables in the control schema) and two shops added with
`possync shops add` (stores 2 and 3, each in its own schema), each synced by `possync sync`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest
from cryptography.fernet import Fernet

from possync.db.connection import Database
from possync.simulator import RunningSimulator, SimulatorConfig, running_simulator
from possync.simulator.lightspeed.state import LightspeedState
from tests.support.cli import RunPossync
from tests.support.environment import environment_for

KEY = Fernet.generate_key().decode()
# shop → its store in the simulator (the environment's shop is store 1, the plain token).
SHOP_STORES = {"default": 1, "north": 2, "south-side": 3}
SHOP_SCHEMAS = {"default": "public", "north": "shop_north", "south-side": "shop_south_side"}


@pytest.fixture(scope="module")
def stores() -> Iterator[RunningSimulator]:
    with running_simulator(SimulatorConfig(seed=14, scale="small", stores=3)) as running:
        yield running


def environment_shop_variables(sim: RunningSimulator) -> dict[str, str]:
    return {
        "POSSYNC_LIGHTSPEED_URL": sim.lightspeed_url,
        "POSSYNC_LIGHTSPEED_TOKEN": sim.token,
        "POSSYNC_SQUARE_URL": sim.square_url,
        "POSSYNC_SQUARE_TOKEN": sim.token,
    }


def add_shop(
    possync_cli: RunPossync, env: dict[str, str], tmp_path: Path, sim: RunningSimulator, name: str
) -> None:
    store = SHOP_STORES[name]
    token = tmp_path / f"token-{store}"
    token.write_text(f"{sim.token}-{store}\n")
    added = possync_cli(
        "shops", "add", name,
        "--lightspeed-url", sim.lightspeed_url, "--lightspeed-token-file", str(token),
        "--square-url", sim.square_url, "--square-token-file", str(token),
        "--timezone", "Europe/London",
        env=env,
    )  # fmt: skip
    assert added.returncode == 0, added.explain()


def set_up_three_shops(
    db: Database, tmp_path: Path, sim: RunningSimulator, possync_cli: RunPossync
) -> dict[str, str]:
    """Add north and south-side, sync all three shops; the CLI's environment."""
    env = environment_for(
        db, tmp_path, POSSYNC_ENCRYPTION_KEY=KEY, **environment_shop_variables(sim)
    )
    for name in ("north", "south-side"):
        add_shop(possync_cli, env, tmp_path, sim, name)
    for name in SHOP_STORES:
        synced = possync_cli("sync", "--shop", name, env=env)
        assert synced.returncode == 0, synced.explain()
    return env


def lightspeed_state(sim: RunningSimulator, store: int) -> LightspeedState:
    api: Any = sim.simulator.store(store).apis["lightspeed"]
    return cast(LightspeedState, api.state)
