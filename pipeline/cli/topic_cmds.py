"""``paperboy topics list|explain|preview``: see and tune topic rules against the store."""

from __future__ import annotations

import click

from pipeline.cli.common import App, pass_app
from pipeline.errors import ConfigError
from pipeline.store.engine import read_session
from pipeline.store.papers import iter_papers_newest_first, select_paper
from pipeline.topics import Topic, TopicScore, load_topics, score_topic, topics_file


def load_app_topics(app: App) -> tuple[Topic, ...]:
    """The topics of the configured file, else of the shipped default file."""
    return load_topics(topics_file(app.config.topics_file))


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
    path = topics_file(app.config.topics_file)
    found = load_topics(path)
    click.echo(f"topics file: {path}")
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
    found_topics = load_app_topics(app)
    with read_session(app.engine()) as session:
        found = select_paper(session=session, ref=paper)
    if found is None:
        raise click.ClickException(
            f"no paper matches {paper!r}: give a key, an arXiv id or the exact title "
            "(find one with `paperboy papers --search TEXT`)"
        )
    click.echo(f"{found.key}  {found.title}")
    for topic in found_topics:
        result = score_topic(
            topic, title=found.title, abstract=found.abstract, keywords=found.keywords
        )
        click.echo(_score_line(topic, result))
        for match in result.matches:
            click.echo(f"  +{match.score:g}  {match.rule!r} in {match.field}")


@topics.command()
@click.argument("slug")
@click.option("--limit", type=click.IntRange(min=1), help="Show at most this many papers.")
@pass_app
def preview(app: App, slug: str, limit: int | None) -> None:
    """List the papers of the whole store topic SLUG would select, newest first."""
    by_slug = {topic.slug: topic for topic in load_app_topics(app)}
    if slug not in by_slug:
        known = ", ".join(by_slug) or "(none)"
        raise ConfigError(f"unknown topic {slug!r} (known: {known})")
    topic, shown, scanned = by_slug[slug], 0, 0
    with read_session(app.engine()) as session:
        for paper, _rank in iter_papers_newest_first(session=session):
            scanned += 1
            result = score_topic(
                topic, title=paper.title, abstract=paper.abstract, keywords=paper.keywords
            )
            if result.selected:
                shown += 1
                click.echo(f"{paper.first_seen}  {result.score:>5g}  {paper.title}")
                if limit is not None and shown >= limit:
                    break
    click.echo(f"{shown} of {scanned} paper(s) selected by {slug}", err=True)
