"""``paperboy run``: the whole daily job in one command, for cron."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

from pipeline.cli.common import App, pass_app, progress_printer
from pipeline.cli.ingest_cmds import ingest_summary, page_line
from pipeline.errors import LockedError
from pipeline.records import Failure, PageReport

if TYPE_CHECKING:
    from pipeline.mail.send import EmailReport


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
@click.option(
    "--no-email", "no_email", is_flag=True, help="Ingest and publish the feeds; mail nothing."
)
@pass_app
def run(app: App, extra_pages: tuple[Path, ...], offline: bool, no_email: bool) -> None:
    """Run the daily job: ingest all sources (catching up missed days), then render and deliver.

    Emails the editions that have settled within the catch-up window (see `paperboy emails`).
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
            pages=extra_pages,
            offline=offline,
            on_page=on_page,
            on_failure=on_failure,
            email=not no_email,
            on_progress=progress_printer(every=10.0),
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
    if report.emails or any(not page.unchanged for page in report.pages):  # quiet rerun (15.10)
        click.echo(f"emails: {emails_line(report.emails, report.email_note)}")
    click.echo(f"run done: {ingest_summary(report.pages, len(report.failures))}")
    if not report.ok:
        sys.exit(1)


def emails_line(reports: Sequence[EmailReport], note: str) -> str:
    """One line for the email stage: what was mailed per edition, or why nothing was."""
    if not reports:
        return note
    parts, quiet = [], 0
    for report in reports:
        done = report.outcomes
        if not done and not report.planned:
            quiet += 1  # frozen, but nobody it was for (topics, or subscribed since)
            continue
        states = [
            f"{state} {done[state]}"
            for state in ("retry", "failed", "uncertain")
            if done.get(state)
        ]
        extra = f" ({', '.join(states)})" if states else ""
        parts.append(f"{report.ref.label} sent {done.get('sent', 0)}{extra}")
    total = sum(report.outcomes.get("sent", 0) for report in reports)
    line = f"{total} sent for {len(parts)} edition(s)" + (f": {'; '.join(parts)}" if parts else "")
    if quiet:  # frozen for nobody: no papers in their topics, or settled before they joined
        line += f"; {quiet} edition(s) had no recipient"
    return line
