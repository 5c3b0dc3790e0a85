"""``paperboy topics list|explain|preview|stats|reassign``: see and tune topic rules against the
store, and see what the stored assignments cover."""

from __future__ import annotations

import click

from pipeline.cli.common import App, pass_app, progress_printer
from pipeline.topics import Topic, TopicScore, topics_file


def _score_line(topic: Topic, result: TopicScore, stored: bool) -> str:
    verdict = "SELECTED" if stored else "not selected"
    line = f"{topic.slug}: score {result.score:g} / threshold {topic.threshold:g}"
    if result.nearest is not None:  # a like topic: its examples select too
        line += f", similarity {result.nearest.score:g} / {topic.like_threshold:g}"
    line += f" -> {verdict}"
    if result.excluded_by:
        line += f" (excluded by {result.excluded_by!r})"
    if result.selected != stored:
        now = "selected" if result.selected else "not selected"
        line += f" [stored; the rules now say {now}: the next run reassigns it]"
    return line


@click.group()
def topics() -> None:
    """Topic rules (config/topics.toml or topics_file): list, explain a paper, preview a topic,
    stats, reassign."""


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
    """Show which rules of every topic match PAPER (a key, arXiv id or exact title), with scores.

    The verdict of each topic is the stored assignment (what feeds, emails and the web use);
    a topic scored differently now (rules edited, paper changed) is flagged until the next run.
    For a topic with `like` examples, the nearest example and its similarity are shown too.
    """
    found = app.pb.explain(paper)
    click.echo(f"{found.paper.key}  {found.paper.title}")
    if found.pending:
        click.echo("(changed since it was assigned: the next run assigns it again)")
    stored = set(found.paper.topics)
    for topic, result in found.scores:
        click.echo(_score_line(topic, result, topic.slug in stored))
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


@topics.command()
@click.option(
    "--days",
    type=click.IntRange(min=1),
    help="Only papers first seen in the last N listing days (up to the newest). Default: all.",
)
@pass_app
def stats(app: App, days: int | None) -> None:
    """Per topic, how many papers it holds, and how many papers no topic takes."""
    counts = app.pb.topic_stats(days=days)
    window = f"since {counts.since}" if counts.since else "all listing days"
    click.echo(f"{counts.papers} paper(s) first seen {window}")

    def share(n: int) -> str:
        return f"{100 * n / counts.papers:5.1f}%" if counts.papers else "    -"

    for topic in app.pb.topics:
        n = counts.by_topic.get(topic.slug, 0)
        click.echo(f"{topic.slug:<24} {n:>8} {share(n)}")
    click.echo(f"{'(no topic)':<24} {counts.untaken:>8} {share(counts.untaken)}")
    if counts.pending:
        click.echo(
            f"{counts.pending} paper(s) not assigned yet: `paperboy topics reassign`", err=True
        )
    if counts.stale:
        click.echo(
            f"rules changed since these topics were assigned: {', '.join(counts.stale)} "
            "(their counts are the old rules'): `paperboy topics reassign` or the next run",
            err=True,
        )


@topics.command()
@click.option(
    "--full", is_flag=True, help="Forget every stored assignment and assign every paper again."
)
@pass_app
def reassign(app: App, full: bool) -> None:
    """Assign topics now: papers not assigned yet, and every paper for topics whose rules
    changed (what each run does first); --full reassigns everything."""
    report = app.pb.reassign(full=full, on_progress=progress_printer())
    parts = [f"{report.papers} new or changed paper(s) assigned"]
    if report.rescanned:
        parts.append(
            f"{len(report.rescanned)} topic(s) reassigned over {report.rescan_papers} paper(s)"
        )
    if report.removed:
        parts.append(f"removed topic(s) {', '.join(report.removed)}")
    click.echo("; ".join(parts))
