"""The layers of docs/architecture.md, kept: a module imports only its own layer and the
layers below it, and the simulator stands beside them (only cli/ imports it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.structure.imports import import_graph

SRC = Path(__file__).resolve().parents[2] / "src"
# Top to bottom, as docs/architecture.md draws them; the ground floor last.
LAYERS = (
    ("cli",),
    ("web",),
    ("jobs",),
    ("engine",),
    ("notify",),
    ("health",),
    ("shops",),
    ("db",),
    ("sources",),
    ("load", "config"),
    ("tables", "errors", "money"),
)


def layer_of(module: str) -> int | None:
    """The floor of `possync.X…` (0 = top), None for the package itself and the simulator."""
    parts = module.split(".")
    if len(parts) < 2:
        return None
    for floor, names in enumerate(LAYERS):
        if parts[1] in names:
            return floor
    return None


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    found = []
    for module, imported in graph.items():
        floor = layer_of(module)
        for target in imported:
            target_floor = layer_of(target)
            if floor is not None and target_floor is not None and target_floor < floor:
                found.append(f"{module} -> {target}")
            is_simulator = target.startswith("possync.simulator")
            if is_simulator and not module.startswith(("possync.simulator", "possync.cli")):
                found.append(f"{module} -> {target} (only cli/ may use the simulator)")
    return sorted(found)


def test_every_import_points_down_a_layer() -> None:
    graph = import_graph(SRC, "possync")
    assert "possync.cli.main" in graph and len(graph) > 100, "the graph read no modules"
    unplaced = sorted(
        {m.split(".")[1] for m in graph if m.count(".") >= 1 and layer_of(m) is None}
        - {"simulator", "__main__"}
    )
    assert unplaced == [], f"folders no layer names (add them to LAYERS and the docs): {unplaced}"
    wrong = upward_imports(graph)
    if wrong:
        pytest.fail("imports that point up a layer:\n" + "\n".join(wrong), pytrace=False)


def test_an_upward_import_is_named() -> None:
    graph = {
        "possync.db.migrate": {"possync.health.thresholds"},
        "possync.web.x": {"possync.simulator.app"},
    }
    assert upward_imports(graph) == [
        "possync.db.migrate -> possync.health.thresholds",
        "possync.web.x -> possync.simulator.app (only cli/ may use the simulator)",
    ]
