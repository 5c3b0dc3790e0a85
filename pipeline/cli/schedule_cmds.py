"""``paperboy schedule``: run the daily job on the configured cron schedule."""

from __future__ import annotations

import logging

import click

from pipeline.cli.common import App, pass_app
from pipeline.cli.topic_cmds import load_app_topics
from pipeline.run import run_once
from pipeline.schedule import build_scheduler, build_trigger, run_until_signalled
from pipeline.store.lock import LockedError, run_lock

log = logging.getLogger(__name__)


@click.command()
@click.option(
    "--next", "show_next", type=click.IntRange(1, 50), help="Only print the next N run times."
)
@pass_app
def schedule(app: App, show_next: int | None) -> None:
    """Run the daily job now and then on the [schedule] cron line, until SIGTERM.

    One job at a time: a run still going when the next is due is coalesced, and a lock keeps
    other processes (cron, other replicas) from running the job at the same time.
    """
    cfg = app.config
    if show_next:
        trigger, when = build_trigger(cfg), app.now()
        previous = None
        for _ in range(show_next):
            fire = trigger.get_next_fire_time(previous, when)
            click.echo(fire.isoformat())
            previous, when = fire, fire
        return
    engine = app.engine()
    topics = load_app_topics(app)

    def job() -> None:
        try:
            with run_lock(engine):
                report = run_once(cfg, engine=engine, now=app.now(), topics=topics)
        except LockedError as exc:
            log.warning("skipped: %s", exc)
            return
        status = "ok" if report.ok else f"{len(report.failures)} failure(s)"
        click.echo(f"run at {app.now():%Y-%m-%d %H:%M} UTC: {len(report.pages)} page(s), {status}")

    click.echo(
        f"paperboy schedule: '{cfg.schedule.cron}' ({cfg.schedule.timezone}); Ctrl-C to stop"
    )
    run_until_signalled(build_scheduler(cfg, job, now=app.now()))
