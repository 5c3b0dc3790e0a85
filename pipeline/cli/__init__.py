"""The ``paperboy`` command line. Thin: each command loads config, builds resources, calls one
function and prints a summary. Only the CLI (and the scheduler) read the clock.

Start-up is lazy: a command's module (and with it SQLAlchemy, jinja2, httpx, APScheduler...) is
imported only when that command runs, so ``paperboy --help`` imports click and this file only.
Each command is listed in :data:`COMMANDS` with its import path and the one-line summary that
``paperboy --help`` shows (tests/test_cli_startup.py checks each summary against the command's
docstring, so they cannot drift).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, MutableMapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import click

from pipeline import __version__
from pipeline.errors import PipelineError

if TYPE_CHECKING:
    from click.shell_completion import CompletionItem


class LazyCommand(NamedTuple):
    """Where a command lives (``"module:attribute"``) and its summary for ``--help``."""

    target: str
    summary: str  # the docstring's first sentence: what click lists (checked by a test)


COMMANDS: dict[str, LazyCommand] = {
    "init": LazyCommand(
        "pipeline.cli.setup_cmds:init",
        "Create the store (tables) and the output folder.",
    ),
    "config": LazyCommand(
        "pipeline.cli.setup_cmds:config_cmd",
        "Show the effective configuration (or, with --defaults, every setting documented).",
    ),
    "check": LazyCommand(
        "pipeline.cli.setup_cmds:check",
        "Verify the store's invariants (identity, history, SQLite integrity); exit 1 if broken.",
    ),
    "ingest": LazyCommand(
        "pipeline.cli.ingest_cmds:ingest",
        "Ingest saved digest pages (files or folders) and report new/recurring papers per page.",
    ),
    "pages": LazyCommand(
        "pipeline.cli.page_cmds:pages",
        "List the stored pages (one per source and date) or remove a wrong one.",
    ),
    "papers": LazyCommand(
        "pipeline.cli.ingest_cmds:papers",
        "List papers in the store, newest first (optionally filtered).",
    ),
    "run": LazyCommand(
        "pipeline.cli.run_cmds:run",
        "Run the daily job: ingest all sources (catching up missed days), then render and deliver.",
    ),
    "schedule": LazyCommand(
        "pipeline.cli.schedule_cmds:schedule",
        "Run the daily job now and then on the [schedule] cron line, until SIGTERM.",
    ),
    "fetch": LazyCommand(
        "pipeline.cli.fetch_cmds:fetch",
        "Fetch one listing date from SOURCE (a configured source, hf-api or hf-html) "
        "and ingest it.",
    ),
    "topics": LazyCommand(
        "pipeline.cli.topic_cmds:topics",
        "Topic rules (config/topics.toml or topics_file): list, explain a paper, preview a topic, "
        "stats, reassign.",
    ),
    "feeds": LazyCommand(
        "pipeline.cli.feed_cmds:feeds",
        'Write <output>/feeds/<topic>.xml (RSS 2.0) and .atom for every topic and for "all", '
        "plus feeds/index.opml.",
    ),
    "subscribers": LazyCommand(
        "pipeline.cli.subscriber_cmds:subscribers",
        "Manage email subscribers and the topics they receive.",
    ),
    "emails": LazyCommand(
        "pipeline.cli.email_cmds:emails",
        "Render and deliver the email editions due, each digest at most once.",
    ),
    "status": LazyCommand(
        "pipeline.cli.status_cmds:status",
        "Say whether something needs a person: runs, sources, empty weekdays, deliveries.",
    ),
    "serve": LazyCommand(
        "pipeline.cli.serve_cmds:serve",
        "Serve the feeds, the archive and the subscribe/unsubscribe pages over HTTP.",
    ),
}


def load_command(target: str) -> click.Command:
    """Import ``"module:attribute"`` and return the click command it names."""
    module_name, _, attribute = target.partition(":")
    command = getattr(importlib.import_module(module_name), attribute)
    if not isinstance(command, click.Command):
        raise TypeError(f"{target} is not a click command")
    return command


class LazyCommands(MutableMapping[str, click.Command]):
    """The group's ``commands``: names are known up front, a module is imported on first access.

    ``group.commands[name]`` keeps working (tests use it); :meth:`summary` never imports.
    """

    def __init__(self, table: dict[str, LazyCommand]) -> None:
        self._table = table
        self._loaded: dict[str, click.Command] = {}

    def summary(self, name: str) -> str:
        """The short help of ``name`` without importing it (a loaded command's own, else ours)."""
        if name in self._loaded:
            return self._loaded[name].get_short_help_str(limit=10_000)
        return self._table[name].summary

    def __getitem__(self, name: str) -> click.Command:
        if name not in self._loaded:
            if name not in self._table:
                raise KeyError(name)
            self._loaded[name] = load_command(self._table[name].target)
        return self._loaded[name]

    def __setitem__(self, name: str, command: click.Command) -> None:  # Group.add_command
        self._loaded[name] = command

    def __delitem__(self, name: str) -> None:
        if name not in self:
            raise KeyError(name)
        self._table = {key: value for key, value in self._table.items() if key != name}
        self._loaded.pop(name, None)

    def __iter__(self) -> Iterator[str]:
        yield from self._table
        yield from (name for name in self._loaded if name not in self._table)

    def __len__(self) -> int:
        return len(self._table.keys() | self._loaded.keys())

    def __contains__(self, name: object) -> bool:
        return name in self._table or name in self._loaded


class PaperboyGroup(click.Group):
    """A click group with lazily imported commands that turns paperboy errors into
    ``Error: ...`` and exit status 1.

    click's "lazily loading subcommands" pattern, through ``self.commands`` (a
    :class:`LazyCommands`): click's ``list_commands`` sorts its names, and the listing of
    ``--help`` (and shell completion) shows the summaries of :data:`COMMANDS`; only
    ``get_command``, called when a command runs (or for ``paperboy COMMAND --help``), imports
    the command's module.
    """

    commands: LazyCommands

    def __init__(self, name: str | None = None, **kwargs: Any) -> None:
        super().__init__(name, commands=LazyCommands(COMMANDS), **kwargs)

    def listed_command(self, name: str) -> click.Command:
        """A stand-in for ``name`` that carries only its summary (no import)."""
        return click.Command(name, help=self.commands.summary(name))

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """Like click's, from the summaries: listing the commands imports none of them."""
        names = self.list_commands(ctx)
        if not names:
            return
        limit = formatter.width - 6 - max(len(name) for name in names)  # as click computes it
        rows = [(name, self.listed_command(name).get_short_help_str(limit)) for name in names]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def shell_complete(self, ctx: click.Context, incomplete: str) -> list[CompletionItem]:
        """Command names (with summaries) and the group's options, importing no command."""
        from click.shell_completion import CompletionItem

        results = [
            CompletionItem(name, help=self.listed_command(name).get_short_help_str())
            for name in self.list_commands(ctx)
            if name.startswith(incomplete)
        ]
        results.extend(click.Command.shell_complete(self, ctx, incomplete))  # the options
        return results

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except PipelineError as exc:
            raise click.ClickException(str(exc)) from exc


@click.group(
    cls=PaperboyGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, prog_name="paperboy")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="PAPERBOY_CONFIG",
    help="Config file (TOML). Default: $PAPERBOY_CONFIG, else the embedded defaults.",
)
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.pass_context
def cli(ctx: click.Context, config_path: Path | None, verbose: int) -> None:
    """paperboy: daily research-paper digests to per-topic feeds and email digests.

    Ingests digest pages, diffs them against the store (new vs recurring papers),
    assigns topics, renders RSS/Atom feeds and email digests, and delivers them.
    """
    import logging

    from pipeline.cli.common import App  # SQLAlchemy and the config: only when a command runs

    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    ctx.obj = App(config_path=config_path)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="paperboy")
