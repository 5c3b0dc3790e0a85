"""The ``paperboy`` command line. Thin: each command loads config, builds resources, calls one
function and prints a summary. Only the CLI (and the scheduler) read the clock.
"""

from __future__ import annotations

import logging
from pathlib import Path

import click

from pipeline import __version__
from pipeline.cli.common import App
from pipeline.cli.email_cmds import emails
from pipeline.cli.feed_cmds import feeds
from pipeline.cli.fetch_cmds import fetch
from pipeline.cli.ingest_cmds import ingest, papers
from pipeline.cli.run_cmds import run
from pipeline.cli.schedule_cmds import schedule
from pipeline.cli.serve_cmds import serve
from pipeline.cli.setup_cmds import check, config_cmd, init
from pipeline.cli.subscriber_cmds import subscribers
from pipeline.cli.topic_cmds import topics
from pipeline.errors import PipelineError


class PaperboyGroup(click.Group):
    """A click group that turns paperboy errors into ``Error: ...`` and exit status 1."""

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
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    ctx.obj = App(config_path=config_path)


cli.add_command(init)
cli.add_command(config_cmd)
cli.add_command(check)
cli.add_command(ingest)
cli.add_command(papers)
cli.add_command(run)
cli.add_command(schedule)
cli.add_command(fetch)
cli.add_command(topics)
cli.add_command(feeds)
cli.add_command(subscribers)
cli.add_command(emails)
cli.add_command(serve)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="paperboy")
