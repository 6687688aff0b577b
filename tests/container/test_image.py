"""The container image, built and run with podman on this machine (marker `container`).

Not in the default suite (a build takes minutes): `.venv/bin/python -m pytest -m container
tests/container`. One image is built per module from the repository's Dockerfile, offline
(wheels built on the host, base image from Debian packages); the containers reach the simulator
and a PostgreSQL on the host's loopback (`--network=host`). Every image and container it
creates is removed at the end.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

import psycopg
import pytest
from bench.trials.square_truth import assert_square_matches_truth
from bench.trials.truth import assert_lightspeed_matches_truth

from possync.simulator import RunningSimulator
from tests.container.podman import BASE_IMAGE, Podman
from tests.container.tcp_postgres import free_port, tcp_postgres
from tests.support.simulators import simulator_fixture

pytestmark = [pytest.mark.container, pytest.mark.timeout(2400)]

NON_ROOT_UID = "10001"
MIGRATIONS = Path(__file__).resolve().parents[2] / "src/possync/sql/migrations"


@pytest.fixture(scope="module")
def work() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="possync-container-"))
    path.chmod(0o755)  # the server user and the container user read below it
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def podman(work: Path) -> Podman:
    return Podman(work)


@pytest.fixture(scope="module")
def image(podman: Podman) -> Iterator[str]:
    """The image, built from the repository; the base image too if this test had to make it."""
    made_base = not podman.image_exists(BASE_IMAGE)
    if made_base:
        podman.make_base_image()
    tag = f"localhost/possync-test:{uuid.uuid4().hex[:8]}"
    try:
        podman.build(tag)
        yield tag
    finally:
        podman("rmi", "--force", tag, check=False)
        if made_base:
            podman("rmi", BASE_IMAGE, check=False)


@pytest.fixture(scope="module")
def database_url(work: Path) -> Iterator[str]:
    with tcp_postgres(work / "postgres") as server_url:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute("CREATE DATABASE possync")
        yield server_url.rsplit("/", 1)[0] + "/possync"


simulator = simulator_fixture(seed=5, scope="module")


@pytest.fixture(scope="module")
def secrets(work: Path, database_url: str, simulator: RunningSimulator) -> Path:
    """The secrets as Compose mounts them: one file per setting under /run/secrets."""
    directory = work / "secrets"
    directory.mkdir(mode=0o755)
    for name, value in {
        "possync_database_url": database_url,
        "possync_dashboard_password": "container-test-password",
        "possync_lightspeed_token": simulator.token,
        "possync_square_token": simulator.token,
    }.items():
        (directory / name).write_text(value + "\n")
        (directory / name).chmod(0o444)
    return directory


def run_args(secrets: Path, simulator: RunningSimulator) -> list[str]:
    """`podman run` options: host network, secrets mounted, the rest by environment."""
    return [
        "--network=host",
        "--volume", f"{secrets}:/run/secrets:ro",
        "--env", f"POSSYNC_LIGHTSPEED_URL={simulator.lightspeed_url}",
        "--env", f"POSSYNC_SQUARE_URL={simulator.square_url}",
        "--env", "POSSYNC_LIGHTSPEED_PAGE_SIZE=200",
    ]  # fmt: skip


def test_the_image_runs_as_a_non_root_user(podman: Podman, image: str) -> None:
    assert podman("run", "--rm", "--entrypoint", "id", image, "-u").stdout.strip() == NON_ROOT_UID
    version = podman("run", "--rm", image, "--version").stdout.strip()
    assert version == f"possync, version {metadata.version('possync')}"
    # The wheel is installed in the virtualenv; no source tree was copied into the image.
    where = podman(
        "run", "--rm", "--entrypoint", "python", image, "-c",
        "import possync, os; print(possync.__file__); print(os.path.exists('/src'))",
    ).stdout.split()  # fmt: skip
    assert where[0].startswith("/opt/possync/lib/python3")
    assert where[0].endswith("/site-packages/possync/__init__.py")
    assert where[1] == "False"


def test_migrate_then_sync_in_the_container_matches_the_simulator(
    podman: Podman, image: str, secrets: Path, simulator: RunningSimulator, database_url: str
) -> None:
    args = ["--no-healthcheck", *run_args(secrets, simulator)]  # the check is for `serve`
    migrated = json.loads(podman("run", "--rm", *args, image, "migrate", "--json").stdout)
    assert migrated["applied"][0].startswith("0001_")
    assert len(migrated["applied"]) == len(list(MIGRATIONS.glob("*.sql")))
    # Exit 0 means every entity of both sources completed (a failed one exits 1).
    podman("run", "--rm", *args, image, "sync", timeout=900)
    truth = simulator.simulator.truth()
    with psycopg.connect(database_url) as conn:
        assert_lightspeed_matches_truth(conn, truth["lightspeed"])
        assert_square_matches_truth(conn, truth["square"])
        sales = conn.execute("SELECT count(*) FROM lightspeed_sales").fetchone()
        orders = conn.execute("SELECT count(*) FROM square_orders").fetchone()
    assert sales is not None and sales[0] > 100
    assert orders is not None and orders[0] > 100


def test_an_unreadable_secret_file_is_one_clear_line(
    podman: Podman, image: str, work: Path
) -> None:
    private = work / "private-secrets"
    private.mkdir(mode=0o755)
    (private / "possync_database_url").write_text("postgresql://x@127.0.0.1/x\n")
    (private / "possync_database_url").chmod(0o600)  # root's file: uid 10001 cannot read it
    result = podman(
        "run", "--rm", "--no-healthcheck", "--volume", f"{private}:/run/secrets:ro", image,
        "migrate", check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        "error: cannot read the secret file /run/secrets/possync_database_url: Permission "
        "denied; make it readable by the user possync runs as (uid 10001), e.g. chmod 0444"
    )


def test_serve_passes_the_image_healthcheck(
    podman: Podman, image: str, secrets: Path, simulator: RunningSimulator, database_url: str
) -> None:
    port = free_port()
    healthz = f"http://127.0.0.1:{port}/healthz"
    health: dict[str, Any] = podman.healthcheck_config(image)
    assert health["Test"][:2] == ["CMD", "python"]
    assert "HEALTHCHECK_URL" in health["Test"][-1]
    # The image's own check fails where nothing answers: not a check that always passes.
    refused = podman(
        "run", "--rm", "--network=host", "--env", f"HEALTHCHECK_URL={healthz}",
        "--entrypoint", health["Test"][1], image, *health["Test"][2:], check=False,
    )  # fmt: skip
    assert refused.returncode != 0 and "Connection refused" in refused.stderr
    name = f"possync-test-serve-{uuid.uuid4().hex[:8]}"
    podman(
        "run", "--detach", "--name", name, *run_args(secrets, simulator),
        "--env", f"HEALTHCHECK_URL={healthz}", "--health-interval=disable",
        image, "serve", "--host", "127.0.0.1", "--port", str(port),
    )  # fmt: skip
    try:
        _wait_for(healthz, timeout=90)
        checked = podman("healthcheck", "run", name, check=False)
        assert checked.returncode == 0, checked.stdout + checked.stderr
        assert checked.stdout.strip() in ("", "healthy")
        status = podman("exec", name, "cat", "/proc/1/status").stdout
        uids = next(line for line in status.splitlines() if line.startswith("Uid:")).split()[1:]
        assert uids == [NON_ROOT_UID] * 4  # real, effective, saved, filesystem
        assert podman("exec", name, "id", "-u").stdout.strip() == NON_ROOT_UID
    finally:
        logs = podman("logs", name, check=False)
        podman("rm", "--force", "--time", "10", name, check=False)
    assert "Traceback" not in logs.stdout + logs.stderr


def _wait_for(url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.5)
