#!/usr/bin/env python3
"""possync's developer tasks. Standard library only, so a fresh machine needs just Python 3.11+.

    python3 tasks.py demo [ARGS]    bootstrap .venv, then run the demo
    python3 tasks.py test [ARGS]    bootstrap .venv, then ruff, mypy and pytest (ARGS go to pytest)
    python3 tasks.py bench [ARGS]   bootstrap .venv (with the bench extra), then bench/run_all.py
    python3 tasks.py docs           regenerate docs/settings.md, docs/cli.md, README's table

Bootstrapping creates `.venv` when it is missing and runs `pip install -e '.[extras]'` only when
pyproject.toml changed since the last install (a stamp file inside .venv remembers).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import venv
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
VENV_PYTHON = VENV / "bin" / "python"
STAMP = VENV / ".possync-install.json"
CHROMIUM = Path("/usr/bin/chromium")
MINIMUM_PYTHON = (3, 11)

SETTINGS_DOC = ROOT / "docs" / "settings.md"
CLI_DOC = ROOT / "docs" / "cli.md"
README = ROOT / "README.md"
TABLE_START = "<!-- settings-table:start -->"
TABLE_END = "<!-- settings-table:end -->"


def say(message: str) -> None:
    print(f"tasks.py: {message}", file=sys.stderr, flush=True)


def run(command: Sequence[str | Path]) -> int:
    """Run a command from the repository root; return its exit code."""
    printable = " ".join(str(part) for part in command)
    say(f"$ {printable}")
    return subprocess.call([str(part) for part in command], cwd=ROOT)


def run_until_done(command: Sequence[str | Path]) -> int:
    """Like `run`, but Ctrl-C doesn't abandon the command: the terminal sent it the same
    Ctrl-C, so wait for it to stop cleanly (and say so itself) instead of printing a traceback."""
    say("$ " + " ".join(str(part) for part in command))
    process = subprocess.Popen([str(part) for part in command], cwd=ROOT)
    while True:
        try:
            return process.wait()
        except KeyboardInterrupt:
            continue


def bootstrap(extras: Sequence[str] = ("dev",)) -> None:
    """Make .venv hold possync installed (editable) with `extras`; skip what is already done."""
    if sys.version_info < MINIMUM_PYTHON:
        sys.exit(f"error: possync needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    if not VENV_PYTHON.exists():
        say(f"creating {VENV.relative_to(ROOT)}")
        venv.EnvBuilder(with_pip=True, clear=VENV.exists()).create(VENV)
    wanted = _install_fingerprint()
    fingerprint, installed_extras = _read_stamp()
    needed = set(extras)
    up_to_date = fingerprint == wanted and (VENV / "bin" / "possync").exists()
    if up_to_date and needed <= installed_extras:
        return
    if up_to_date:
        needed |= installed_extras
    spec = f".[{','.join(sorted(needed))}]" if needed else "."
    say(f"installing possync into .venv ({spec})")
    pip: list[str | Path] = [VENV_PYTHON, "-m", "pip", "install", "--disable-pip-version-check"]
    if run([*pip, "--quiet", "-e", spec]) != 0:
        sys.exit(f"error: `pip install -e '{spec}'` failed; see pip's message above")
    STAMP.write_text(json.dumps({"fingerprint": wanted, "extras": sorted(needed)}) + "\n")


def _install_fingerprint() -> str:
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes())
    digest.update(sys.version.encode())
    return digest.hexdigest()


def _read_stamp() -> tuple[str, set[str]]:
    """The fingerprint and extras of the last install, or nothing when there is no stamp."""
    try:
        data = json.loads(STAMP.read_text())
        return str(data["fingerprint"]), {str(extra) for extra in data["extras"]}
    except (OSError, ValueError, KeyError, TypeError):
        return "", set()


def venv_tool(name: str) -> Path:
    return VENV / "bin" / name


def task_demo(args: list[str]) -> int:
    """Run `possync demo` (or, before the demo exists, migrate and status)."""
    bootstrap()
    possync = venv_tool("possync")
    has_demo = subprocess.call(
        [possync, "demo", "--help"], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    if has_demo == 0:
        return run_until_done([possync, "demo", *args])
    say("`possync demo` is not available yet: running migrate and status instead")
    return run([possync, "migrate"]) or run([possync, "status", *args])


def task_test(args: list[str]) -> int:
    """ruff check, ruff format --check, mypy, then pytest with `args`; non-zero if any fails."""
    bootstrap()
    if not CHROMIUM.exists():
        say(
            f"warning: {CHROMIUM} is missing, so the browser tests will fail; "
            "install Debian's chromium (apt-get install chromium)"
        )
    checks: dict[str, list[str | Path]] = {
        "ruff check": [venv_tool("ruff"), "check", "."],
        "ruff format": [venv_tool("ruff"), "format", "--check", "."],
        "mypy": [venv_tool("mypy")],
    }
    failed = [name for name, command in checks.items() if run(command) != 0]
    pytest_code = run([VENV_PYTHON, "-m", "pytest", *args])
    if failed:
        say(f"failed: {', '.join(failed)} (pytest exit code {pytest_code})")
        return 1
    if pytest_code != 0:
        say(f"pytest failed with exit code {pytest_code}")
    return pytest_code


def task_bench(args: list[str]) -> int:
    """Run the benchmarks in bench/run_all.py."""
    script = ROOT / "bench" / "run_all.py"
    if not script.exists():
        say("no benchmarks yet: bench/run_all.py is missing")
        return 0
    bootstrap(("dev", "bench"))
    return run([VENV_PYTHON, script, *args])


def task_docs(args: list[str]) -> int:
    """Regenerate the settings and CLI references (inside .venv, which has possync)."""
    bootstrap()
    return run([VENV_PYTHON, Path(__file__).resolve(), "_write-docs", *args])


def task_write_docs(args: list[str]) -> int:
    """Internal: runs inside .venv. Writes docs/settings.md, docs/cli.md, README's table."""
    SETTINGS_DOC.write_text(render_settings_doc(), encoding="utf-8")
    CLI_DOC.write_text(render_cli_doc(), encoding="utf-8")
    say(f"wrote {SETTINGS_DOC.relative_to(ROOT)} and {CLI_DOC.relative_to(ROOT)}")
    if README.exists():
        text = README.read_text(encoding="utf-8")
        if TABLE_START in text and TABLE_END in text:
            head, rest = text.split(TABLE_START, 1)
            _, tail = rest.split(TABLE_END, 1)
            table = "\n".join(settings_table_rows(with_secret_column=False))
            README.write_text(f"{head}{TABLE_START}\n{table}\n{TABLE_END}{tail}", encoding="utf-8")
            say("updated the settings table in README.md")
        else:
            say(f"README.md has no {TABLE_START} … {TABLE_END} markers: table left alone")
    return 0


def settings_table_rows(*, with_secret_column: bool) -> list[str]:
    """Markdown table of every setting: environment name, default, meaning."""
    from possync.config.settings import Settings

    header = "| Setting | Default | Meaning |"
    rule = "|---|---|---|"
    if with_secret_column:
        header, rule = "| Setting | Default | Secret | Meaning |", "|---|---|---|---|"
    rows = [header, rule]
    for name, field in Settings.model_fields.items():
        env_name = field.alias or f"POSSYNC_{name.upper()}"
        default = field.get_default(call_default_factory=True)
        secret = "SecretStr" in repr(field.annotation)
        shown = _format_default(default, secret)
        meaning = (field.description or "").replace("|", "\\|")
        if with_secret_column:
            rows.append(f"| `{env_name}` | {shown} | {'yes' if secret else ''} | {meaning} |")
        else:
            rows.append(f"| `{env_name}` | {shown} | {meaning} |")
    return rows


def _format_default(default: object, secret: bool) -> str:
    if default is None:
        return "unset"
    if secret:
        value = getattr(default, "get_secret_value", lambda: default)()
        return "unset" if value == "" else "(secret)"
    text = str(default)
    return "empty" if text == "" else f"`{text}`"


def render_settings_doc() -> str:
    rows = "\n".join(settings_table_rows(with_secret_column=True))
    return f"""# Settings

<!-- Generated by `python3 tasks.py docs` from `possync.config.settings.Settings`; edit the field
descriptions there, not this file. -->

possync reads its settings once, when a command starts, from the environment and from an optional
`.env` file in the working directory (the environment wins). Every name starts with `POSSYNC_`.
An empty value (`POSSYNC_X=`) means the default.

A bad value stops possync with one line that names the setting and says what is wrong, for example
`error: POSSYNC_HEALTH_GREEN_HOURS: Input should be a valid number`, and exit code 2.

Secrets (marked below) are held as secret strings: they never appear in `repr()`, logs, error
messages, the dashboard or `sync_log`.

{rows}

## Notes

- With no `POSSYNC_DATABASE_URL`, possync starts its embedded PostgreSQL 18 under
  `POSSYNC_DATA_DIR/pgdata`. It listens on a Unix socket only, every possync process using the same
  data dir shares it, and the last one to exit stops it.
- For Supabase, read [supabase.md](supabase.md): use the direct connection or the session pooler.
- `sync_health` (the SQL view) reads the health thresholds (the two global ones and
  `POSSYNC_HEALTH_THRESHOLDS`) from the `possync_settings` table, which every possync command
  refreshes when it opens the database: no `possync migrate` is needed after changing them. A
  role that may not write that table (e.g. read-only) leaves the view's thresholds as they were.
- `POSSYNC_LIGHTSPEED_URL` wins over `POSSYNC_LIGHTSPEED_DOMAIN_PREFIX`; with only the prefix,
  the URL is `https://<prefix>.retail.lightspeed.app/api/2.0`.
"""


def render_cli_doc() -> str:
    """The `--help` of `possync` and of every command, nested groups included."""
    import click
    from click.testing import CliRunner

    from possync.cli.main import main

    runner = CliRunner()
    sections = [
        "# Command line",
        "",
        "<!-- Generated by `python3 tasks.py docs` from each command's `--help`. -->",
        "",
        "Every command exits 0 on success and non-zero on failure with one line on stderr",
        "(`error: …`) that says what to fix: 1 when an operation failed, 2 for bad usage or a bad",
        "setting. `possync status` also exits 3 when it could read the status and an entity is",
        "red. `--debug` shows the traceback instead. Read commands offer `--json`.",
        "",
    ]

    def document(path: list[str], command: click.Command) -> None:
        result = runner.invoke(main, [*path, "--help"], prog_name="possync", terminal_width=100)
        title = " ".join(["possync", *path])
        sections.extend([f"## `{title}`", "", "```text", result.output.rstrip(), "```", ""])
        if isinstance(command, click.Group):
            for name in sorted(command.commands):
                document([*path, name], command.commands[name])

    document([], main)
    return "\n".join(sections)


TASKS: dict[str, Callable[[list[str]], int]] = {
    "demo": task_demo,
    "test": task_test,
    "bench": task_bench,
    "docs": task_docs,
    "_write-docs": task_write_docs,
}


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in TASKS or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    return TASKS[argv[0]](argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
