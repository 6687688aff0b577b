"""db/ stays a layer you can read bottom-up: no module in it imports back into a module that
imports it (not even lazily, inside a function), and connecting needs nothing but settings."""

from __future__ import annotations

import ast
from pathlib import Path

import possync.db

DB_FOLDER = Path(possync.db.__file__).parent


def _db_imports(path: Path) -> set[str]:
    """The possync.db modules `path` imports, at the top or inside a function."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        found.update(name for name in names if _module_path(name) is not None)
    return found


def _module_path(name: str) -> Path | None:
    if not name.startswith("possync.db."):
        return None
    path = DB_FOLDER.joinpath(*name.split(".")[2:]).with_suffix(".py")
    return path if path.is_file() else None


def _graph() -> dict[str, set[str]]:
    return {
        f"possync.db.{path.stem}": _db_imports(path)
        for path in DB_FOLDER.glob("*.py")
        if path.stem != "__init__"
    }


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle, as the modules along it, or None."""
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> list[str] | None:
        if module in path:
            return [*path[path.index(module) :], module]
        if module in done:
            return None
        for imported in sorted(graph.get(module, ())):
            cycle = visit(imported, [*path, module])
            if cycle is not None:
                return cycle
        done.add(module)
        return None

    for module in sorted(graph):
        cycle = visit(module, [])
        if cycle is not None:
            return cycle
    return None


def test_no_import_cycle_inside_db() -> None:
    cycle = _cycle(_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_connecting_imports_no_other_db_module() -> None:
    assert _graph()["possync.db.connection"] == set()
