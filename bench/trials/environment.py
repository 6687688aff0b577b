"""The environment a `possync` child process runs in: none of the developer's POSSYNC_
variables, only the ones given. Shared by the trials and the tests (tests/support)."""

from __future__ import annotations

import os

PREFIX = "POSSYNC_"


def possync_environment(**variables: str) -> dict[str, str]:
    """This process's environment without any POSSYNC_ variable, plus `variables`
    (full names: POSSYNC_DATABASE_URL=...)."""
    env = {name: value for name, value in os.environ.items() if not name.startswith(PREFIX)}
    env.update(variables)
    return env


def setting_variables(**settings: object) -> dict[str, str]:
    """Settings by their lower-case names as environment variables:
    lightspeed_url=... -> {"POSSYNC_LIGHTSPEED_URL": "..."}."""
    return {f"{PREFIX}{name.upper()}": str(value) for name, value in settings.items()}
