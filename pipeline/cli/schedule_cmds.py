"""``paperboy schedule``: run the daily job on the configured cron schedule."""

from __future__ import annotations

import logging

import click

from pipeline.cli.common import App, pass_app
from pipeline.errors import LockedError
from pipeline.schedule import build_scheduler, build_trigger, run_until_signalled

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

    cfg, pb = app.config, app.pb
    if show_next:
        trigger, when = build_trigger(cfg), app.now()
        previous = None
        for _ in range(show_next):
            fire = trigger.get_next_fire_time(previous, when)
            click.echo(fire.isoformat())
            previous, when = fire, fire
        return
    pb.engine  # open and migrate the store now: a broken one fails before the first run  # noqa: B018

    def job() -> None:
        try:
            report = pb.run()
        except LockedError as exc:
            log.warning("skipped: %s", exc)
            return
        status = "ok" if report.ok else f"{len(report.failures)} failure(s)"
        click.echo(f"run at {app.now():%Y-%m-%d %H:%M} UTC: {len(report.pages)} page(s), {status}")

    click.echo(
        f"paperboy schedule: '{cfg.schedule.cron}' ({cfg.schedule.timezone}); Ctrl-C to stop"
    )
    run_until_signalled(build_scheduler(cfg, job, now=app.now()))
