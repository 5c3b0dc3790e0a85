"""The email stage wired from config: the job (topics, templates, secret), the transport
(SMTP, or .eml files when no SMTP is configured) and delivery of one edition.

I/O edge: reads the environment (SMTP password, secret) and builds the transport; shared by
``paperboy emails`` and ``paperboy run``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine

from pipeline.config import Config
from pipeline.mail.render import make_envs, settings_from
from pipeline.mail.send import (
    EmailJob,
    EmailReport,
    EmlTransport,
    SmtpTransport,
    Transport,
    email_secret,
    prepare_edition,
    send_edition,
)
from pipeline.mail.smtp import parse_smtp_url
from pipeline.mail.worker import work_edition
from pipeline.resources import resource_path
from pipeline.topics import Topic


def job_from_config(
    cfg: Config, *, engine: Engine, topics: Sequence[Topic], env: Mapping[str, str]
) -> EmailJob:
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
        topics=tuple(topics),
        envs=make_envs(templates or resource_path("templates")),
        settings=settings,
        secret=email_secret(engine, env_value=env.get("PAPERBOY_SECRET")),
        send_empty=email.send_empty,
        retry_after=timedelta(minutes=email.retry_minutes),
        lease=timedelta(minutes=email.lease_minutes),
    )


def transport_from_config(cfg: Config, day: date, *, env: Mapping[str, str]) -> Transport:
    """SMTP when configured, else .eml files under <output>/outbox/<edition>/."""
    if cfg.email.smtp_url:
        password = env.get("PAPERBOY_SMTP_PASSWORD", "")
        return SmtpTransport(parse_smtp_url(cfg.email.smtp_url, password=password))
    return EmlTransport(Path(cfg.output_dir) / "outbox" / day.isoformat())


def deliver_edition(
    cfg: Config,
    *,
    engine: Engine,
    day: date,
    job: EmailJob,
    now: datetime,
    env: Mapping[str, str],
    resend_uncertain: bool = False,
    on_start: Callable[[int], None] | None = None,
    on_item: Callable[[], None] | None = None,
    clock: Callable[[], datetime] | None = None,
    worker_batch: int | None = None,
) -> EmailReport:
    """Plan the edition's outbox rows, then send the due ones, each at most once.

    With ``worker_batch``, claim due rows that many at a time until none is left, so several
    processes can share the edition (:mod:`pipeline.mail.worker`).
    """
    edition, report = prepare_edition(
        engine=engine, day=day, job=job, now=now, resend_uncertain=resend_uncertain
    )
    if on_start:
        on_start(report.totals.get("pending", 0) + report.totals.get("retry", 0))
    transport = transport_from_config(cfg, day, env=env)
    if worker_batch is not None:
        return work_edition(
            engine=engine,
            edition=edition,
            report=report,
            job=job,
            transport=transport,
            now=now,
            batch=worker_batch,
            clock=clock,
        )
    return send_edition(
        engine=engine,
        edition=edition,
        report=report,
        job=job,
        transport=transport,
        now=now,
        on_item=on_item,
        clock=clock,
    )


def email_summary(report: EmailReport) -> str:
    """One line: what happened to an edition's digests in this run."""
    done = report.outcomes
    parts = [f"{state} {done.get(state, 0)}" for state in ("sent", "retry", "failed", "uncertain")]
    return (
        f"edition {report.edition}: {report.papers} paper(s), {report.planned} new outbox row(s), "
        f"{report.topic_sets} topic set(s); this run: {', '.join(parts)}; "
        f"uncertain total {report.totals.get('uncertain', 0)}"
    )


def email_problems(report: EmailReport) -> list[str]:
    """What needs a human: a batch stopped early, messages in the uncertain state."""
    problems = []
    if report.stopped:
        problems.append(f"stopped early: {report.stopped}; rerun to send the rest")
    if report.totals.get("uncertain"):
        problems.append(
            f"{report.totals['uncertain']} message(s) uncertain: the server may have them; "
            "check, then use `paperboy emails --resend-uncertain` if needed"
        )
    return problems
