"""bench/ stands on its own: it imports nothing from tests/ (tests may import from bench/)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.structure.imports import imported_names, module_name, python_files

ROOT = Path(__file__).resolve().parents[2]


def imports_of_tests(folder: Path) -> list[str]:
    """`file: module` for each import of the tests package by a module under `folder`."""
    found = []
    for path in python_files(folder):
        module = module_name(path, folder.parent)
        for base, _ in imported_names(path, module):
            if base == "tests" or base.startswith("tests."):
                found.append(f"{path.relative_to(folder.parent)}: imports {base}")
    return found


def test_bench_imports_nothing_from_tests() -> None:
    found = imports_of_tests(ROOT / "bench")
    if found:
        pytest.fail(
            "bench/ imports from tests/ (move what both need to bench/, or to the simulator "
            "when it is the simulator's truth):\n" + "\n".join(found),
            pytrace=False,
        )


def test_a_tests_import_is_named(tmp_path: Path) -> None:
    bench = tmp_path / "bench"
    bench.mkdir()
    (bench / "ok.py").write_text("import psycopg\nfrom bench import common\n")
    (bench / "lazy.py").write_text("def f():\n    from tests.engine import truth\n")
    (bench / "plain.py").write_text("import tests.conftest\n")
    found = imports_of_tests(bench)
    assert [line.split(": ", 1)[1] for line in found] == [
        "imports tests.engine",
        "imports tests.conftest",
    ]


def test_every_bench_module_imports_without_tests_on_the_path() -> None:
    """Import each bench module in a fresh interpreter where `tests` cannot be found."""
    modules = [
        module_name(path, ROOT)
        for path in python_files(ROOT / "bench")
        if path.name != "locustfile.py"  # imported by locust, which the bench extra installs
    ]
    script = (
        "import importlib, sys\n"
        "class NoTests:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'tests' or name.startswith('tests.'):\n"
        "            raise ImportError('bench imported ' + name)\n"
        "sys.meta_path.insert(0, NoTests())\n"
        f"for module in {modules!r}:\n"
        "    importlib.import_module(module)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
