"""Small modules: none in src/possync over 400 lines, so each can be read in one sitting."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.structure.imports import python_files

SRC = Path(__file__).resolve().parents[2] / "src"
MAX_LINES = 400


def test_no_module_over_400_lines() -> None:
    assert len(list(python_files(SRC / "possync"))) > 100, "no module was read"
    too_long = {
        path.relative_to(SRC).as_posix(): lines
        for path in python_files(SRC / "possync")
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    listed = "\n".join(f"{name}: {lines} lines" for name, lines in sorted(too_long.items()))
    if too_long:
        pytest.fail(f"modules over {MAX_LINES} lines (split them):\n{listed}", pytrace=False)
