"""``paperboy emails``: render and deliver the email editions due (or one you name)."""

from __future__ import annotations

import os
import sys
from datetime import UTC, date, datetime

import click

from pipeline.cli.common import App, parse_date, pass_app
from pipeline.records import EditionRef


@click.command()
@click.option(
    "--edition",
    "day",
    callback=parse_date,
    metavar="YYYY-MM-DD",
    help="Send this day's edition to daily subscribers, even if not settled yet or older than "
    "the catch-up window.",
)
@click.option(
    "--week",
    metavar="YYYY-Www",
    help="Send this ISO week's edition (e.g. 2026-W05) to weekly subscribers.",
)
@click.option(
    "--dry-run", is_flag=True, help="Show what is due or waiting and when; change nothing."
)
@click.option(
    "--resend-uncertain",
    is_flag=True,
    help="Send 'uncertain' rows again (same Message-ID, so most clients drop a copy).",
)
@click.option(
    "--worker",
    is_flag=True,
    help="Share the work with other `emails --worker` processes: claim due rows of the edition "
    "(default: every edition due) until none is left.",
)
@click.option(
    "--batch",
    type=click.IntRange(1, 1000),
    default=None,
    help="Rows claimed, sent, then recorded at a time (default: [email] batch); a killed "
    "process leaves at most this many uncertain.",
)
@pass_app
def emails(
    app: App,
    day: date | None,
    week: str | None,
    dry_run: bool,
    resend_uncertain: bool,
    worker: bool,
    batch: int | None,
) -> None:
    """Render and deliver the email editions due, each digest at most once.

    By default every edition due: each day's edition once it has settled ([email]
    settle_hours after the day ends, UTC), each ISO week's once its Sunday has, within the
    catch-up window ([ingest] catch_up_max_days). Exits 1 when a message is 'uncertain' (the
    server may or may not have it) or the batch stopped early (connection lost, 421); rerun to
    deliver the rest.
    """
    pb = app.pb
    if day is not None and week is not None:
        raise click.UsageError("give --edition or --week, not both")
    named = EditionRef.parse_week(week) if week is not None else None
    if day is not None:
        named = EditionRef.daily(pb.existing_edition(day))  # no such edition: an error (15.10)
    if dry_run:
        _dry_run(app, named)
        return
    if named is not None:
        refs = [named]
    else:
        due = pb.find_due()
        refs = due.editions
        if resend_uncertain:
            refs = sorted({*refs, *due.uncertain}, key=lambda ref: ref.sort_key)
        if not refs:
            click.echo(due.why_nothing(pb.config.ingest.catch_up_max_days))
            return
    batch = batch or pb.config.email.batch
    prefix = f"worker {os.getpid()}: " if worker else ""
    ok = True
    for ref in refs:
        # a progress bar only for a person watching: in cron mail a bare label is noise (15.10)
        hidden = worker or not sys.stderr.isatty()
        with click.progressbar(
            length=1, label=f"sending {ref.label}", file=sys.stderr, hidden=hidden
        ) as bar:

            def start(todo: int) -> None:
                bar.length = max(todo, 1)

            report = pb.send_edition(
                ref, resend_uncertain=resend_uncertain, batch=batch, on_start=start,
                on_item=lambda: bar.update(1), replan=named is not None,
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


def _dry_run(app: App, named: EditionRef | None) -> None:
    """Print what is due, what has rows pending and what waits to settle, and when."""
    pb = app.pb
    waiting: tuple[tuple[EditionRef, datetime], ...] = ()
    if named is not None:
        refs = [named]
    else:
        due = pb.find_due()
        refs, waiting = due.editions, due.waiting
        if not refs and not waiting:
            click.echo(f"dry run: {due.why_nothing(pb.config.ingest.catch_up_max_days)}")
            return
    for plan in pb.preview(refs, on_request=named is not None):
        name = f"weekly edition {plan.ref.label}" if plan.ref.kind == "weekly" else (
            f"edition {plan.ref.label}"
        )  # fmt: skip
        pending = plan.rows.get("pending", 0) + plan.rows.get("retry", 0)
        if plan.frozen and named is None:
            click.echo(f"dry run: {name}: {pending} message(s) still to send")
            continue
        late = f" (+{plan.late} added late)" if plan.late else ""
        when = "settled" if plan.settled else f"settles at {plan.settles_at:%Y-%m-%d %H:%M} UTC"
        click.echo(
            f"dry run: {name}: {plan.recipients} of {plan.subscribers} {plan.ref.kind} "
            f"subscriber(s) would get a digest, {plan.papers} paper(s){late}, "
            f"{plan.topic_sets} topic set(s), largest HTML {plan.largest_html} bytes; {when}"
        )
    for ref, at in waiting:
        what = f"weekly edition {ref.label}" if ref.kind == "weekly" else f"edition {ref.label}"
        click.echo(f"dry run: {what}: waits, settles at {at.astimezone(UTC):%Y-%m-%d %H:%M} UTC")
