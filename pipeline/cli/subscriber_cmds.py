"""``paperboy subscribers add|remove|list|import``."""

from __future__ import annotations

from pathlib import Path

import click

from pipeline.cli.common import App, pass_app
from pipeline.errors import ConfigError
from pipeline.records import ALL_TOPICS, FREQUENCIES, SUBSCRIBER_STATUSES


def _topic_list(text: str) -> list[str]:
    return text.replace(";", ",").split(",")


@click.group()
def subscribers() -> None:
    """Manage email subscribers and the topics they receive."""


@subscribers.command("add")
@click.argument("email")
@click.option(
    "--topics",
    default="all",
    show_default=True,
    metavar="SLUG,SLUG",
    help='Comma-separated topic slugs; "all" is every paper (those in no topic under "Other").',
)
@click.option(
    "--frequency",
    type=click.Choice(FREQUENCIES, case_sensitive=False),
    help="daily: each day's edition; weekly: one digest per ISO week (default: daily, or the "
    "subscriber's own when updating; a change starts on the next Monday).",
)
@pass_app
def add_cmd(app: App, email: str, topics: str, frequency: str | None) -> None:
    """Subscribe EMAIL to topics, by default to everything (again: updates topics and
    frequency, re-activates)."""
    record, what = app.pb.add_subscriber(email, _topic_list(topics), frequency=frequency)
    how_often = record.frequency_text(app.now().date())
    click.echo(f"{what}: {record.email} ({', '.join(record.topics)}; {how_often})")


@subscribers.command("remove")
@click.argument("email")
@pass_app
def remove_cmd(app: App, email: str) -> None:
    """Unsubscribe EMAIL (kept as 'unsubscribed', so it gets nothing more)."""
    if not app.pb.remove_subscriber(email):
        raise ConfigError(f"no subscriber {email.strip()!r}; see `paperboy subscribers list`")
    click.echo(f"unsubscribed: {email.strip()}")


@subscribers.command("list")
@click.option(
    "--status", type=click.Choice(SUBSCRIBER_STATUSES), help="Only subscribers with this status."
)
@pass_app
def list_cmd(app: App, status: str | None) -> None:
    """List subscribers: address, status, topics (those no longer configured are marked),
    frequency."""
    found = app.pb.subscribers(status)
    configured = {ALL_TOPICS, *(topic.slug for topic in app.pb.topics)}
    today = app.now().date()
    for sub in found:
        topics = [s if s in configured else f"{s} (not configured)" for s in sub.topics]
        how_often = sub.frequency_text(today)
        click.echo(f"{sub.email}\t{sub.status}\t{','.join(topics)}\t{how_often}")
    click.echo(f"{len(found)} subscriber(s)", err=True)


@subscribers.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_app
def import_cmd(app: App, file: Path) -> None:
    """Add subscribers from a CSV file with 'email' and 'topics' columns (topics: a,b).

    An optional 'frequency' column says daily or weekly (empty: daily, or unchanged).

    Bad lines are reported on stderr and skipped; exits 1 if any line was bad.
    """
    report = app.pb.import_subscribers(file)
    for error in report.errors:
        click.echo(f"Error: {error}", err=True)
    click.echo(", ".join(f"{n} {what}" for what, n in report.counts.items()))
    if report.errors:
        raise SystemExit(1)
