"""``paperboy emails``: render and deliver an edition's digests."""

from __future__ import annotations

import os
import sys
from datetime import date, timedelta
from pathlib import Path

import click
from sqlalchemy import Engine

from pipeline.cli.common import App, parse_date, pass_app
from pipeline.cli.subscriber_cmds import configured_topics
from pipeline.config import Config
from pipeline.db import read_session
from pipeline.deliver_email import parse_smtp_url
from pipeline.emails import (
    EmailJob,
    EmailReport,
    EmlTransport,
    SmtpTransport,
    Transport,
    email_secret,
    prepare_edition,
    send_edition,
)
from pipeline.errors import ConfigError
from pipeline.render_email import make_envs, settings_from
from pipeline.resources import resource_path
from pipeline.store import last_listing_date


def build_job(cfg: Config, engine: Engine, app: App) -> EmailJob:
    """The run's topics, templates, settings and secret, from config and environment."""
    email = cfg.email
    templates = cfg.base_dir / email.templates_dir if email.templates_dir else None
    settings = settings_from(
        title=cfg.output.title,
        sender=email.sender,
        site_url=cfg.output.site_url,
        unsubscribe_address=email.unsubscribe_address,
        max_papers=email.max_papers_per_section,
        abstract_chars=email.abstract_chars,
    )
    return EmailJob(
        topics=configured_topics(app),
        envs=make_envs(templates or resource_path("templates")),
        settings=settings,
        secret=email_secret(engine, env_value=os.environ.get("PAPERBOY_SECRET")),
        send_empty=email.send_empty,
        retry_after=timedelta(minutes=email.retry_minutes),
        lease=timedelta(minutes=email.lease_minutes),
    )


def build_transport(cfg: Config, day: date) -> Transport:
    """SMTP when configured, else .eml files under <output>/outbox/<edition>/."""
    if cfg.email.smtp_url:
        password = os.environ.get("PAPERBOY_SMTP_PASSWORD", "")
        return SmtpTransport(parse_smtp_url(cfg.email.smtp_url, password=password))
    return EmlTransport(Path(cfg.output_dir) / "outbox" / day.isoformat())


def _summary(report: EmailReport) -> str:
    done = report.outcomes
    parts = [f"{state} {done.get(state, 0)}" for state in ("sent", "retry", "failed", "uncertain")]
    return (
        f"edition {report.edition}: {report.papers} paper(s), {report.planned} new outbox row(s), "
        f"{report.topic_sets} topic set(s); this run: {', '.join(parts)}; "
        f"uncertain total {report.totals.get('uncertain', 0)}"
    )


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
@pass_app
def emails(app: App, day: date | None, dry_run: bool, resend_uncertain: bool) -> None:
    """Render and deliver the email digests of an edition, each at most once.

    Exits 1 when a message is 'uncertain' (the server may or may not have it) or the batch
    stopped early (connection lost, 421); rerun to deliver the rest.
    """
    cfg, engine, now = app.config, app.engine(), app.now()
    if day is None:
        with read_session(engine) as session:
            day = last_listing_date(session=session)
        if day is None:
            raise ConfigError("the store holds no edition yet; run `paperboy ingest` first")
    job = build_job(cfg, engine, app)
    if dry_run:
        click.echo(dry_run_summary(engine, day, job))
        return
    edition, report = prepare_edition(
        engine=engine, day=day, job=job, now=now, resend_uncertain=resend_uncertain
    )
    transport = build_transport(cfg, day)
    todo = report.totals.get("pending", 0) + report.totals.get("retry", 0)
    with click.progressbar(length=max(todo, 1), label="sending", file=sys.stderr) as bar:
        report = send_edition(
            engine=engine,
            edition=edition,
            report=report,
            job=job,
            transport=transport,
            now=now,
            on_item=lambda: bar.update(1),
            clock=app.now,
        )
    click.echo(_summary(report))
    if report.stopped:
        click.echo(f"Error: stopped early: {report.stopped}; rerun to send the rest", err=True)
    if report.totals.get("uncertain"):
        click.echo(
            f"Error: {report.totals['uncertain']} message(s) uncertain: the server may "
            "have them; check, then use --resend-uncertain if needed",
            err=True,
        )
    if not report.ok:
        sys.exit(1)


def dry_run_summary(engine: Engine, day: date, job: EmailJob) -> str:
    """Count and render what would be sent, without writing anything."""
    from pipeline.edition import select_edition
    from pipeline.emails import render_for
    from pipeline.subscribers import select_subscribers

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
