"""A fast start-up (issue 11): ``paperboy --help`` imports no command, a store at head is not
migrated through Alembic, a SQLite store never loads the PostgreSQL dialect.

What each start-up path imports is checked in a fresh interpreter (``sys.modules``), never by
timing; the speed figures live in bench/bench_cli.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import click
import pytest
from click.shell_completion import ShellComplete
from click.testing import CliRunner
from sqlalchemy import Engine

from pipeline.cli import COMMANDS, cli, load_command
from pipeline.store.engine import make_engine
from pipeline.store.migrate import current_revision
from pipeline.store.migrations import HEAD_REVISION
from tests.conftest import SAMPLES

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_ONLY = ("sqlalchemy.dialects.postgresql", "psycopg", "psycopg_binary")
HEAVY = ("sqlalchemy", "sqlmodel", "alembic", "jinja2", "httpx", "apscheduler", "psycopg")


def modules_after(
    code: str, *, args: list[str] | None = None, env: dict[str, str] | None = None
) -> set[str]:
    """The modules loaded by ``code`` run in a fresh interpreter (it may exit via SystemExit);
    ``code`` finds ``args`` in ``sys.argv[2:]``."""
    script = textwrap.dedent(
        """
        import json, sys
        try:
            exec(compile(sys.argv[1], "<startup>", "exec"))
        except SystemExit as exc:
            if exc.code not in (0, None):
                raise
        finally:
            sys.stdout.flush()
            sys.stderr.write("\\nMODULES " + json.dumps(sorted(sys.modules)) + "\\n")
        """
    )
    environ = {**os.environ, "PYTHONPATH": str(ROOT)}
    for name in ("PAPERBOY_CONFIG", "PAPERBOY_DATABASE_URL", "PAPERBOY_OUTPUT_DIR"):
        environ.pop(name, None)
    done = subprocess.run(
        [sys.executable, "-c", script, textwrap.dedent(code), *(args or [])],
        capture_output=True,
        text=True,
        env={**environ, **(env or {})},
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    line = done.stderr.rsplit("MODULES ", 1)[1]
    return set(json.loads(line))


def heavy(modules: set[str], names: tuple[str, ...] = HEAVY) -> set[str]:
    """The loaded modules that are (or are inside) one of the packages ``names``."""
    return {m for m in modules if any(m == n or m.startswith(f"{n}.") for n in names)}


def url_of(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


# --- lazy commands -------------------------------------------------------------------------


def test_help_imports_no_command_module() -> None:
    loaded = modules_after(
        "from pipeline.cli import main\nsys.argv = ['paperboy', '--help']\nmain()"
    )
    ours = {m for m in loaded if m.split(".")[0] == "pipeline"}
    assert ours == {"pipeline", "pipeline.cli", "pipeline.errors"}
    assert heavy(loaded) == set()
    assert "logging" not in loaded


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["-h"]])
def test_python_dash_m_imports_no_command_module(args: list[str]) -> None:
    """``python -m pipeline --help``, observed with ``-X importtime`` (every module it loads)."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "pipeline", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
        timeout=120,
        check=True,
    )
    loaded = {
        line.rsplit("|", 1)[1].strip()
        for line in done.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }
    assert "click" in loaded  # the parse works
    assert heavy(loaded) == set()
    assert not {m for m in loaded if m.startswith("pipeline.cli.")}
    assert done.stdout.startswith("Usage: paperboy") or done.stdout.startswith("paperboy, version")


def test_command_help_imports_only_that_command() -> None:
    loaded = modules_after(
        "from pipeline.cli import main\nsys.argv = ['paperboy', 'topics', '--help']\nmain()"
    )
    commands = {m for m in loaded if m.startswith("pipeline.cli.") and m.endswith("_cmds")}
    assert commands == {"pipeline.cli.topic_cmds"}


def test_every_command_is_listed_and_loads() -> None:
    for name, entry in COMMANDS.items():
        command = load_command(entry.target)
        assert command.name == name
        assert cli.commands[name] is command
    assert sorted(cli.commands) == sorted(COMMANDS)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_listed_summary_is_the_first_sentence_of_the_docstring(name: str) -> None:
    """The summary in COMMANDS is what click would list for the real command (no drift)."""
    command = load_command(COMMANDS[name].target)
    assert COMMANDS[name].summary == command.get_short_help_str(limit=10_000)


@pytest.mark.parametrize("width", [60, 80, 200])
def test_help_lists_what_an_eager_group_would(width: int) -> None:
    eager = click.Group(
        name="cli",
        params=cli.params,
        help=cli.help,
        context_settings=cli.context_settings,
        commands=[load_command(entry.target) for entry in COMMANDS.values()],
    )
    runner = CliRunner()
    lazy_help = runner.invoke(cli, ["--help"], prog_name="paperboy", terminal_width=width)
    eager_help = runner.invoke(eager, ["--help"], prog_name="paperboy", terminal_width=width)
    assert lazy_help.exit_code == eager_help.exit_code == 0
    assert lazy_help.output == eager_help.output
    assert "Commands:" in lazy_help.output


def test_unknown_command_suggests_a_close_one() -> None:
    result = CliRunner().invoke(cli, ["chek"])
    assert result.exit_code == 2
    assert "No such command 'chek'. Did you mean 'check'?" in result.output


def test_pipeline_error_is_error_and_exit_1(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[store]\ndatabase_url = 3\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["--config", str(bad), "config"])
    assert result.exit_code == 1
    assert result.output.startswith("Error: ")


def test_shell_completion_lists_commands_without_importing_them() -> None:
    loaded = modules_after(
        """
        from click.shell_completion import ShellComplete
        from pipeline.cli import cli
        complete = ShellComplete(cli, {}, "paperboy", "_PAPERBOY_COMPLETE")
        items = complete.get_completions([], "s")
        assert [i.value for i in items] == ["schedule", "serve", "status", "subscribers"], items
        assert items[3].help.startswith("Manage email subscribers"), items[3].help
        """
    )
    assert heavy(loaded) == set()
    assert not {m for m in loaded if m.startswith("pipeline.cli.")}


def test_shell_completion_of_options() -> None:
    complete = ShellComplete(cli, {}, "paperboy", "_PAPERBOY_COMPLETE")
    values = [item.value for item in complete.get_completions([], "--")]
    assert {"--config", "--verbose", "--version", "--help"} <= set(values)


# --- no Alembic when the store is at head ---------------------------------------------------

STARTUP = """
from pipeline.store.engine import init_db, make_engine
engine = make_engine(sys.argv[2])
init_db(engine)
engine.dispose()
"""


def test_startup_on_a_store_at_head_imports_no_alembic(engine: Engine) -> None:
    """``engine`` is migrated to head (conftest); a new process starting on it needs no Alembic."""
    loaded = modules_after(STARTUP, args=[url_of(engine)])
    assert heavy(loaded, ("alembic",)) == set()
    if engine.dialect.name == "sqlite":
        assert heavy(loaded, POSTGRES_ONLY) == set()


def test_startup_on_an_empty_store_migrates_to_head(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"
    loaded = modules_after(STARTUP, args=[url])
    assert "alembic.command" in loaded  # a stamp was due
    fresh = make_engine(url)
    with fresh.connect() as conn:
        assert current_revision(conn) == HEAD_REVISION
    fresh.dispose()


@pytest.mark.parametrize(
    "command",
    [["check"], ["ingest", str(SAMPLES / "page-a.txt")], ["config"], ["papers", "--limit", "1"]],
    ids=lambda args: args[0],
)
def test_commands_on_a_store_at_head_load_no_alembic(engine: Engine, command: list[str]) -> None:
    """A no-op start-up: no Alembic; on SQLite neither the PostgreSQL dialect nor psycopg."""
    code = f"from pipeline.cli import main\nsys.argv = ['paperboy', *{command!r}]\nmain()\n"
    loaded = modules_after(code, env={"PAPERBOY_DATABASE_URL": url_of(engine)})
    assert heavy(loaded, ("alembic",)) == set()
    if engine.dialect.name == "sqlite":
        assert heavy(loaded, POSTGRES_ONLY) == set()
    elif command[0] != "config":  # config opens no store
        assert "sqlalchemy.dialects.postgresql" in loaded  # the check above means something
