"""No import cycle in src/possync: a module never imports, even lazily, what imports it back."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.structure.imports import cycles, import_graph

SRC = Path(__file__).resolve().parents[2] / "src"


def test_no_import_cycle_in_possync() -> None:
    graph = import_graph(SRC, "possync")
    assert "possync.cli.main" in graph and len(graph) > 100, "the graph read no modules"
    found = cycles(graph)
    listed = "\n".join(" -> ".join(cycle) for cycle in found)
    if found:
        pytest.fail(
            f"{len(found)} import cycle(s) in src/possync (runtime, TYPE_CHECKING and "
            f"function-local imports all count):\n{listed}",
            pytrace=False,
        )


def test_the_graph_sees_every_kind_of_import(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("from .leaf import VALUE\n")
    (package / "sub" / "leaf.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from pkg.top import Top\n"
        "VALUE = 1\n"
    )
    (package / "top.py").write_text(
        "def later():\n    from pkg.sub import leaf\n    return leaf\nimport pkg.other\n"
    )
    (package / "other.py").write_text("from . import top\n")
    graph = import_graph(tmp_path, "pkg")
    assert graph == {
        "pkg": set(),
        "pkg.sub": {"pkg.sub.leaf"},
        "pkg.sub.leaf": {"pkg.top"},
        "pkg.top": {"pkg.sub.leaf", "pkg.other"},
        "pkg.other": {"pkg.top"},
    }
    assert cycles(graph) == [
        ["pkg.other", "pkg.top", "pkg.other"],
        ["pkg.sub.leaf", "pkg.top", "pkg.sub.leaf"],
    ]
