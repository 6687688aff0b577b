"""The import graph of a folder of Python modules, read with `ast` (nothing is imported).

Every import statement counts: top-level, under `if TYPE_CHECKING:`, and inside functions,
because each is a dependency a reader must follow and a cycle waiting for a refactor.
"""

from __future__ import annotations

import ast
from collections import deque
from collections.abc import Iterator
from pathlib import Path


def module_name(path: Path, root: Path) -> str:
    """`root/possync/db/grant.py` -> `possync.db.grant`; a package's `__init__` is the package."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def python_files(folder: Path) -> Iterator[Path]:
    yield from sorted(path for path in folder.rglob("*.py") if "__pycache__" not in path.parts)


def imported_names(path: Path, module: str) -> Iterator[tuple[str, tuple[str, ...]]]:
    """Each import of `module` (the file at `path`) as (the module it names, the names taken
    from it), relative imports resolved: `from a.b import c, d` is ("a.b", ("c", "d"))."""
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, ()
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = module.split(".") if is_package else module.split(".")[:-1]
                package = package[: len(package) - (node.level - 1)]
                base = ".".join([*package, base] if base else package)
            yield base, tuple(alias.name for alias in node.names)


def imported_modules(path: Path, module: str, known: set[str]) -> set[str]:
    """The modules among `known` that `module` imports: `from a.b import c` is a.b.c when c is
    a module, else a.b (c is a name in it)."""
    found: set[str] = set()
    for base, names in imported_names(path, module):
        if not names:
            found.add(base)
        for name in names:
            submodule = f"{base}.{name}"
            found.add(submodule if submodule in known else base)
    return (found & known) - {module}


def import_graph(root: Path, package: str) -> dict[str, set[str]]:
    """Module -> the modules of `package` (a folder under `root`) it imports."""
    files = {module_name(path, root): path for path in python_files(root / package)}
    known = set(files)
    return {module: imported_modules(path, module, known) for module, path in files.items()}


def shortest_cycle_through(graph: dict[str, set[str]], start: str) -> list[str] | None:
    """The shortest path start -> … -> start, or None when start is on no cycle."""
    previous: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for target in sorted(graph.get(node, ())):
            if target == start:
                path = [node]
                while path[-1] != start:
                    path.append(previous[path[-1]])
                return [*reversed(path), start]
            if target not in previous:
                previous[target] = node
                queue.append(target)
    return None


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One shortest cycle through each module that lies on a cycle, without repeats."""
    found: list[list[str]] = []
    seen: set[tuple[str, ...]] = set()
    for module in sorted(graph):
        cycle = shortest_cycle_through(graph, module)
        if cycle is None:
            continue
        ring = cycle[:-1]
        first = ring.index(min(ring))
        canonical = tuple(ring[first:] + ring[:first])
        if canonical not in seen:
            seen.add(canonical)
            found.append([*canonical, canonical[0]])
    return found
