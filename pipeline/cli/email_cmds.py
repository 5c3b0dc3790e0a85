"""``paperboy emails``: render and deliver an edition's digests."""

from __future__ import annotations

import os
import sys
from datetime import date

import click
from sqlalchemy import Engine

from pipeline.cli.common import App, parse_date, pass_app
from pipeline.cli.topic_cmds import load_app_topics
from pipeline.errors import ConfigError
from pipeline.mail.send import EmailJob
from pipeline.mail.wiring import deliver_edition, email_problems, email_summary, job_from_config
from pipeline.store.engine import read_session
from pipeline.store.outbox import due_editions
from pipeline.store.papers import last_listing_date


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
    help="Rows a worker claims at a time (a killed worker leaves at most this many uncertain).",
)
@pass_app
def emails(
    app: App, day: date | None, dry_run: bool, resend_uncertain: bool, worker: bool, batch: int
) -> None:
    """Render and deliver the email digests of an edition, each at most once.

    Exits 1 when a message is 'uncertain' (the server may or may not have it) or the batch
    stopped early (connection lost, 421); rerun to deliver the rest.
    """
    cfg, engine, now = app.config, app.engine(), app.now()
    if worker and not dry_run:
        run_worker(app, day, batch=batch, resend_uncertain=resend_uncertain)
        return
    if day is None:
        with read_session(engine) as session:
            day = last_listing_date(session=session)
        if day is None:
            raise ConfigError("the store holds no edition yet; run `paperboy ingest` first")
    job = job_from_config(cfg, engine=engine, topics=load_app_topics(app), env=os.environ)
    if dry_run:
        click.echo(dry_run_summary(engine, day, job))
        return
    with click.progressbar(length=1, label="sending", file=sys.stderr) as bar:

        def start(todo: int) -> None:
            bar.length = max(todo, 1)

        report = deliver_edition(
            cfg, engine=engine, day=day, job=job, now=now, env=os.environ,
            resend_uncertain=resend_uncertain, on_start=start,
            on_item=lambda: bar.update(1), clock=app.now,
        )  # fmt: skip
    click.echo(email_summary(report))
    for problem in email_problems(report):
        click.echo(f"Error: {problem}", err=True)
    if not report.ok:
        sys.exit(1)


def dry_run_summary(engine: Engine, day: date, job: EmailJob) -> str:
    """Count and render what would be sent, without writing anything."""
    from pipeline.mail.send import render_for
    from pipeline.store.editions import select_edition
    from pipeline.store.subscribers import select_subscribers

    with read_session(engine) as session:
        edition = select_edition(session=session, day=day, topics=job.topics)
        subs = select_subscribers(session=session, status="active")
    wanted = [s for s in subs if job.send_empty or not edition.for_topics(s.topics).empty]
    sets = {tuple(sorted(s.topics)) for s in wanted}
    largest = max((len(render_for(edition, list(t), job).html.encode()) for t in sets), default=0)
    return (
        f"dry run: edition {day}: {len(wanted)} of {len(subs)} subscriber(s) would get a "
        f"digest, {len(sets)} topic set(s), largest HTML {largest} bytes"
    )


def run_worker(app: App, day: date | None, *, batch: int, resend_uncertain: bool) -> None:
    """Deliver the edition(s) in worker mode; exit 1 if anything needs a human."""
    cfg, engine, now = app.config, app.engine(), app.now()
    with read_session(engine) as session:
        latest = last_listing_date(session=session)
        due = set(due_editions(session=session))
    days = [day] if day is not None else sorted(due | ({latest} if latest else set()))
    if not days:
        raise ConfigError("the store holds no edition yet; run `paperboy ingest` first")
    job = job_from_config(cfg, engine=engine, topics=load_app_topics(app), env=os.environ)
    ok = True
    for edition in days:
        report = deliver_edition(
            cfg, engine=engine, day=edition, job=job, now=now, env=os.environ,
            resend_uncertain=resend_uncertain, clock=app.now, worker_batch=batch,
        )  # fmt: skip
        click.echo(f"worker {os.getpid()}: {email_summary(report)}")
        for problem in email_problems(report):
            click.echo(f"Error: {problem}", err=True)
        ok = ok and report.ok
        if report.stopped:
            break
    if not ok:
        sys.exit(1)
