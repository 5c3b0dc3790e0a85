"""``paperboy subscribers add|remove|list|import``."""

from __future__ import annotations

import os
from pathlib import Path

import click

from pipeline.cli.common import App, pass_app
from pipeline.cli.topic_cmds import load_app_topics
from pipeline.errors import ConfigError
from pipeline.mail.send import email_secret
from pipeline.store.engine import read_session, write_session
from pipeline.store.subscribers import (
    STATUSES,
    add_subscriber,
    check_topics,
    parse_subscriber_csv,
    remove_subscriber,
    select_subscribers,
)


def _topic_list(text: str) -> list[str]:
    return text.replace(";", ",").split(",")


@click.group()
def subscribers() -> None:
    """Manage email subscribers and the topics they receive."""


@subscribers.command("add")
@click.argument("email")
@click.option("--topics", required=True, metavar="SLUG,SLUG", help="Comma-separated topic slugs.")
@pass_app
def add_cmd(app: App, email: str, topics: str) -> None:
    """Subscribe EMAIL to topics (again: updates topics, re-activates)."""
    known = [t.slug for t in load_app_topics(app)]
    chosen = check_topics(_topic_list(topics), known)
    engine = app.engine()
    secret = email_secret(engine, env_value=os.environ.get("PAPERBOY_SECRET"))
    with write_session(engine) as session:
        record, what = add_subscriber(
            session=session, email=email, topics=chosen, secret=secret, now=app.now()
        )
    click.echo(f"{what}: {record.email} ({', '.join(record.topics)})")


@subscribers.command("remove")
@click.argument("email")
@pass_app
def remove_cmd(app: App, email: str) -> None:
    """Unsubscribe EMAIL (kept as 'unsubscribed', so it gets nothing more)."""
    with write_session(app.engine()) as session:
        found = remove_subscriber(session=session, email=email, now=app.now())
    if not found:
        raise ConfigError(f"no subscriber {email.strip()!r}; see `paperboy subscribers list`")
    click.echo(f"unsubscribed: {email.strip()}")


@subscribers.command("list")
@click.option("--status", type=click.Choice(STATUSES), help="Only subscribers with this status.")
@pass_app
def list_cmd(app: App, status: str | None) -> None:
    """List subscribers: address, status, topics."""
    with read_session(app.engine()) as session:
        found = select_subscribers(session=session, status=status)
    for sub in found:
        click.echo(f"{sub.email}\t{sub.status}\t{','.join(sub.topics)}")
    click.echo(f"{len(found)} subscriber(s)", err=True)


@subscribers.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_app
def import_cmd(app: App, file: Path) -> None:
    """Add subscribers from a CSV file with 'email' and 'topics' columns (topics: a,b).

    Bad lines are reported on stderr and skipped; exits 1 if any line was bad.
    """
    known = [t.slug for t in load_app_topics(app)]
    rows = parse_subscriber_csv(file.read_text(encoding="utf-8-sig"))
    engine = app.engine()
    secret = email_secret(engine, env_value=os.environ.get("PAPERBOY_SECRET"))
    counts = {"added": 0, "updated": 0, "unchanged": 0, "errors": 0}
    with write_session(engine) as session:
        for line, email, topics in rows:
            try:
                chosen = check_topics(topics, known)
                _record, what = add_subscriber(
                    session=session, email=email, topics=chosen, secret=secret, now=app.now()
                )
            except ConfigError as exc:
                click.echo(f"Error: {file}:{line}: {exc}", err=True)
                counts["errors"] += 1
                continue
            counts[what] += 1
    click.echo(", ".join(f"{n} {what}" for what, n in counts.items()))
    if counts["errors"]:
        raise SystemExit(1)
