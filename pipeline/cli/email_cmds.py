"""``paperboy emails``: render and deliver an edition's digests."""

from __future__ import annotations

import os
import sys
from datetime import date

import click

from pipeline.cli.common import App, parse_date, pass_app


@click.command()
@click.option(
    "--edition",
    "day",
    callback=parse_date,
    metavar="YYYY-MM-DD",
    help="Listing date to send (default: the latest in the store).",
)
@click.option("--dry-run", is_flag=True, help="Render and count, change nothing, send nothing.")
@click.option(
    "--resend-uncertain",
    is_flag=True,
    help="Send 'uncertain' rows again (same Message-ID, so most clients drop a copy).",
)
@click.option(
    "--worker",
    is_flag=True,
    help="Share the work with other `emails --worker` processes: claim due rows of the edition "
    "(default: the latest and any with rows still due) until none is left.",
)
@click.option(
    "--batch",
    type=click.IntRange(1, 1000),
    default=1,
    show_default=True,
    help="Rows claimed at a time (a killed process leaves at most this many uncertain).",
)
@pass_app
def emails(
    app: App, day: date | None, dry_run: bool, resend_uncertain: bool, worker: bool, batch: int
) -> None:
    """Render and deliver the email digests of an edition, each at most once.

    Exits 1 when a message is 'uncertain' (the server may or may not have it) or the batch
    stopped early (connection lost, 421); rerun to deliver the rest.
    """
    pb = app.pb
    if dry_run:
        plan = pb.preview_edition(day)
        click.echo(
            f"dry run: edition {plan.day}: {plan.recipients} of {plan.subscribers} subscriber(s) "
            f"would get a digest, {plan.topic_sets} topic set(s), "
            f"largest HTML {plan.largest_html} bytes"
        )
        return
    if worker:
        days = [day] if day is not None else pb.due_editions()
        if not days:
            pb.latest_edition()  # raises: the store holds no edition yet
        prefix = f"worker {os.getpid()}: "
    else:
        days, prefix = [day or pb.latest_edition()], ""
    ok = True
    for edition in days:
        # a progress bar only for a person watching: in cron mail a bare label is noise (15.10)
        hidden = worker or not sys.stderr.isatty()
        with click.progressbar(
            length=1, label=f"sending {edition}", file=sys.stderr, hidden=hidden
        ) as bar:

            def start(todo: int) -> None:
                bar.length = max(todo, 1)

            report = pb.send_edition(
                edition, resend_uncertain=resend_uncertain, batch=batch, on_start=start,
                on_item=lambda: bar.update(1),
            )  # fmt: skip
        click.echo(prefix + report.summary())
        for problem in report.problems():
            click.echo(f"Error: {problem}", err=True)
        note = report.in_flight_note(pb.config.email.lease_minutes)
        if note and not worker:  # workers see each other's rows in flight: that is normal
            click.echo(f"Note: {note}", err=True)
        ok = ok and report.ok
        if report.stopped:
            break
    for topic_note in pb.topic_notes():
        click.echo(f"Note: {topic_note}", err=True)
    if not ok:
        sys.exit(1)
