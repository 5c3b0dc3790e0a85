"""``paperboy run``: the whole daily job in one command, for cron."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from pipeline.cli.common import App, pass_app
from pipeline.cli.ingest_cmds import ingest_summary, page_line
from pipeline.errors import LockedError
from pipeline.records import Failure, PageReport


@click.command()
@click.option(
    "--pages",
    "extra_pages",
    multiple=True,
    type=click.Path(exists=True, path_type=Path),
    help="Also ingest these saved pages (files or folders). Repeatable.",
)
@click.option(
    "--offline",
    is_flag=True,
    help="Skip everything that needs the network (hf-api, hf-html sources, title look-ups).",
)
@pass_app
def run(app: App, extra_pages: tuple[Path, ...], offline: bool) -> None:
    """Run the daily job: ingest all sources (catching up missed days), then render and deliver.

    Exits 1 if any source failed, after delivering what succeeded. If another run holds the
    lock, says so and exits 0 without doing anything.
    """

    def on_page(report: PageReport) -> None:
        if not report.unchanged:  # quiet when a page changed nothing (issue 15.10)
            click.echo(f"ingested {page_line(report)}")

    def on_failure(failure: Failure) -> None:
        click.echo(f"Error: {failure.origin}: {failure.message}", err=True)

    try:
        report = app.pb.run(
            pages=extra_pages, offline=offline, on_page=on_page, on_failure=on_failure
        )
    except LockedError as exc:  # cron and the scheduler overlapping is normal: not a failure
        click.echo(f"{exc}; nothing done", err=True)
        return
    for note in report.notes:
        click.echo(note, err=True)
    if report.feeds is not None and report.feeds.written:  # quiet when no byte changed
        click.echo(
            f"feeds: {report.feeds.feeds} feed(s) in {report.feeds.folder}, "
            f"{len(report.feeds.written)} file(s) written, {report.feeds.unchanged} unchanged"
        )
    for email in report.emails:
        click.echo(f"emails: {email.summary()}")
    click.echo(f"run done: {ingest_summary(report.pages, len(report.failures))}")
    if not report.ok:
        sys.exit(1)
