"""``paperboy topics list|explain|preview``: see and tune topic rules against the store."""

from __future__ import annotations

import click

from pipeline.cli.common import App, pass_app
from pipeline.topics import Topic, TopicScore, topics_file


def _score_line(topic: Topic, result: TopicScore) -> str:
    verdict = "SELECTED" if result.selected else "not selected"
    line = f"{topic.slug}: score {result.score:g} / threshold {topic.threshold:g} -> {verdict}"
    if result.excluded_by:
        line += f" (excluded by {result.excluded_by!r})"
    return line


@click.group()
def topics() -> None:
    """Topic rules (config/topics.toml or topics_file): list, explain a paper, preview a topic."""


@topics.command("list")
@pass_app
def list_topics(app: App) -> None:
    """List the topics with their thresholds and rule counts."""
    click.echo(f"topics file: {topics_file(app.config.topics_file)}")
    found = app.pb.topics
    for topic in found:
        click.echo(
            f"{topic.slug}  {topic.title!r}  threshold {topic.threshold:g}, "
            f"{len(topic.include)} include / {len(topic.exclude)} exclude rule(s)"
        )
    click.echo(f"{len(found)} topic(s)", err=True)


@topics.command()
@click.argument("paper")
@pass_app
def explain(app: App, paper: str) -> None:
    """Show which rules of every topic match PAPER (a key, arXiv id or exact title), with scores."""
    found, scores = app.pb.explain(paper)
    click.echo(f"{found.key}  {found.title}")
    for topic, result in scores:
        click.echo(_score_line(topic, result))
        for match in result.matches:
            click.echo(f"  +{match.score:g}  {match.rule!r} in {match.field}")


@topics.command()
@click.argument("slug")
@click.option("--limit", type=click.IntRange(min=1), help="Show at most this many papers.")
@pass_app
def preview(app: App, slug: str, limit: int | None) -> None:
    """List the papers of the whole store topic SLUG would select, newest first."""
    shown = scanned = 0
    for paper, result in app.pb.preview_topic(slug):
        scanned += 1
        if result is not None:
            shown += 1
            click.echo(f"{paper.first_seen}  {result.score:>5g}  {paper.title}")
            if limit is not None and shown >= limit:
                break
    click.echo(f"{shown} of {scanned} paper(s) selected by {slug}", err=True)
