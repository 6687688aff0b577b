"""No setting or command goes undocumented (regenerate with `python3 tasks.py docs`)."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from possync.cli.main import main
from possync.config.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
FIX = "run `python3 tasks.py docs` (and describe new settings in possync.config.settings)"
ENV_NAME = re.compile(r"`?(POSSYNC_[A-Z0-9_]+)`?")


def setting_env_names() -> list[str]:
    fields = Settings.model_fields.items()
    return [field.alias or f"POSSYNC_{name.upper()}" for name, field in fields]


def command_paths(group: click.Group = main, prefix: str = "possync") -> list[str]:
    """Every command as "possync migrate", "possync alerts check", …, nested groups included."""
    paths: list[str] = []
    for name, command in sorted(group.commands.items()):
        path = f"{prefix} {name}"
        paths.append(path)
        if isinstance(command, click.Group):
            paths += command_paths(command, path)
    return paths


def table_settings(markdown: str) -> set[str]:
    """Setting names in the first column of the markdown tables in `markdown`."""
    names = set()
    for line in markdown.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.lstrip().startswith("|") and cells and (match := ENV_NAME.fullmatch(cells[0])):
            names.add(match[1])
    return names


def readme_settings_section() -> str:
    """README's Configuration/Settings section: from its heading to the next heading as high."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    heading = re.search(r"^(#+) +(configuration|settings)\b.*$", text, re.I | re.M)
    assert heading, "README.md needs a `## Configuration` section with the settings table"
    level = len(heading[1])
    rest = text[heading.end() :]
    end = re.search(rf"^#{{1,{level}}} ", rest, re.M)
    return rest[: end.start()] if end else rest


def test_settings_doc_lists_every_setting() -> None:
    documented = table_settings((ROOT / "docs" / "settings.md").read_text(encoding="utf-8"))
    missing = [name for name in setting_env_names() if name not in documented]
    assert missing == [], f"docs/settings.md lacks {missing}: {FIX}"


def test_readme_settings_table_lists_every_setting() -> None:
    documented = table_settings(readme_settings_section())
    missing = [name for name in setting_env_names() if name not in documented]
    assert missing == [], f"README.md's settings table lacks {missing}: {FIX}"


def test_docs_name_no_setting_that_does_not_exist() -> None:
    known = set(setting_env_names())
    for document in (ROOT / "docs" / "settings.md", ROOT / "README.md"):
        text = document.read_text(encoding="utf-8")
        stale = table_settings(text) - known
        assert stale == set(), f"{document.name} documents removed settings {stale}: {FIX}"


@pytest.mark.parametrize("path", command_paths())
def test_cli_doc_covers_every_command(path: str) -> None:
    cli_doc = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    assert f"## `{path}`" in cli_doc, f"docs/cli.md lacks `{path}`: {FIX}"


def test_supabase_doc_covers_the_connection_choices() -> None:
    text = (ROOT / "docs" / "supabase.md").read_text(encoding="utf-8").lower()
    for phrase in ("direct connection", "session pooler", "transaction pooler", "sslmode=require"):
        assert phrase in text
    for reason in ("prepared statement", "temp", "advisory lock"):
        assert reason in text
    assert "row level security" in text and "security_invoker" in text
