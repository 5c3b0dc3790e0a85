"""``paperboy status``: does something need a person? For people, cron and monitoring."""

from __future__ import annotations

import json
import sys

import click

from pipeline.cli.common import App, pass_app
from pipeline.health import health_json, status_lines


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON (the body of GET /health).")
@click.option(
    "--alert",
    is_flag=True,
    help="Also mail [alerts] to about problems not mailed yet (for a watcher cron line).",
)
@pass_app
def status(app: App, as_json: bool, alert: bool) -> None:
    """Say whether something needs a person: runs, sources, empty weekdays, deliveries.

    Shows per source the last successful run, the last day stored and its papers, the recent
    editions' digests by state and the outbox problems. Exits 1 when something needs a person
    (the rules: docs/health.md), 0 when all is well.
    """
    report = app.pb.status()
    if as_json:
        click.echo(json.dumps(health_json(report, app.config.health), indent=2))
    else:
        for line in status_lines(report):
            click.echo(line)
    if alert:
        click.echo(app.pb.alert(report).summary(), err=True)
    if not report.ok:
        sys.exit(1)
