"""Podman as this machine runs it (../shared/reference/containers-here.md): vfs storage, runc,
no ulimits, and a base image made from Debian packages because no registry is reachable."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

BASE_IMAGE = "localhost/debian-python:bookworm"
REPO = Path(__file__).resolve().parents[2]


class Podman:
    """Runs `podman` with this machine's storage and runtime options."""

    def __init__(self, work: Path) -> None:
        if shutil.which("podman") is None:
            raise RuntimeError("podman is not installed: apt-get install podman runc mmdebstrap")
        conf = work / "containers.conf"
        conf.write_text("[containers]\ndefault_ulimits = []\n")  # setrlimit is not permitted
        self.env = {**os.environ, "CONTAINERS_CONF": str(conf)}
        self.work = work

    def __call__(
        self, *args: str, check: bool = True, timeout: float = 300
    ) -> subprocess.CompletedProcess[str]:
        command = ["podman", "--storage-driver=vfs", "--runtime", "runc", *args]
        result = subprocess.run(
            command, env=self.env, capture_output=True, text=True, timeout=timeout
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"{' '.join(args[:2])} exited {result.returncode}:\n"
                f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
            )
        return result

    def image_exists(self, name: str) -> bool:
        return self("image", "exists", name, check=False).returncode == 0

    def make_base_image(self) -> None:
        """Debian bookworm with python3 and venv (about a minute or two), imported as BASE_IMAGE."""
        rootfs = self.work / "rootfs.tar"
        subprocess.run(
            ["mmdebstrap", "--variant=minbase", "--include=python3,python3-venv,ca-certificates",
             "bookworm", str(rootfs)],
            check=True, capture_output=True, timeout=900,
        )  # fmt: skip
        self("import", str(rootfs), BASE_IMAGE, timeout=600)
        rootfs.unlink()

    def build(self, tag: str) -> None:
        """Build the repository's Dockerfile offline: wheels built here, then copied in."""
        context = self.work / "context"
        context.mkdir()
        for name in ("Dockerfile", ".dockerignore"):
            shutil.copy(REPO / name, context / name)
        subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "--quiet",
             str(REPO), "--wheel-dir", str(context / "wheels")],
            check=True, capture_output=True, timeout=900,
        )  # fmt: skip
        # --format docker keeps HEALTHCHECK (OCI images have no such field); --layers=false
        # leaves no intermediate images behind in the vfs store.
        self("build", "--format", "docker", "--layers=false", "--build-arg",
             f"BASE={BASE_IMAGE}", "-t", tag, str(context), timeout=1200)  # fmt: skip

    def healthcheck_config(self, image: str) -> dict[str, Any]:
        inspected = json.loads(self("image", "inspect", image).stdout)[0]
        config: dict[str, Any] = inspected.get("Healthcheck") or {}
        return config
