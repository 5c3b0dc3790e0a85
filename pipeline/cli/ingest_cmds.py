"""``paperboy ingest`` and ``paperboy papers``."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import click

from pipeline.cli.common import App, parse_date, pass_app
from pipeline.config import DEFAULT_SOURCE
from pipeline.records import Failure, PageReport


def page_line(report: PageReport) -> str:
    """The one-line report of an ingested page: what it lists, then what changed in the store.

    "new" is about dates (first listed on this page's date), "added" about this run (put into
    the store now): a rerun lists the same new papers and adds none (issue 15.10).
    """
    if report.unchanged:
        return (
            f"{report.origin}: {report.listing_date}: unchanged, "
            f"{report.papers} paper(s) already stored"
        )
    return (
        f"{report.origin}: {report.listing_date}: {report.papers} paper(s) "
        f"({report.new} new that day, {report.recurring} recurring); "
        f"{report.added} added to the store, {report.already_stored} already stored"
    )


def ingest_summary(pages: Sequence[PageReport], errors: int) -> str:
    """The last line of ``ingest`` and ``run``: pages read, what changed, errors."""
    changed = [page for page in pages if not page.unchanged]
    if not changed:
        return f"{len(pages)} page(s) read, nothing changed, {errors} error(s)"
    added = sum(page.added for page in changed)
    return (
        f"{len(pages)} page(s) read, {len(changed)} changed, {added} paper(s) added, "
        f"{errors} error(s)"
    )


def print_changed(report: PageReport) -> None:
    """Echo the line of a page that changed the store (unchanged pages stay quiet)."""
    if not report.unchanged:
        click.echo(page_line(report))


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--date",
    "listing_date",
    callback=parse_date,
    metavar="YYYY-MM-DD",
    help="Listing date of the pages (default: header date, year inferred as the latest "
    "such date not after today).",
)
@click.option("--source", default=DEFAULT_SOURCE, show_default=True, help="Source name to record.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of lines.")
@click.option("--offline", is_flag=True, help="Never contact the network (no title look-ups).")
@pass_app
def ingest(
    app: App,
    paths: tuple[Path, ...],
    listing_date: date | None,
    source: str,
    as_json: bool,
    offline: bool,
) -> None:
    """Ingest saved digest pages (files or folders) and report new/recurring papers per page.

    A page that changed the store gets a line: its papers, new that day (first listed on its
    date) and recurring, then how many were added to the store and how many it already held;
    pages already stored as they are print nothing. Bad pages are reported (one line each, on
    stderr) and skipped; the others are ingested. Exits 1 if any page failed.
    """

    def on_failure(failure: Failure) -> None:
        click.echo(f"Error: {failure.origin}: {failure.message}", err=True)

    report = app.pb.ingest(
        paths,
        listing_date=listing_date,
        source=source,
        on_page=None if as_json else print_changed,
        on_failure=None if as_json else on_failure,
        offline=offline,
    )
    if as_json:
        payload = {
            "pages": [page.as_dict() for page in report.pages],
            "errors": [failure.as_dict() for failure in report.failures],
        }
        click.echo(json.dumps(payload, indent=2))
    else:
        for note in report.notes:
            click.echo(note)
        click.echo(ingest_summary(report.pages, len(report.failures)))
    if not report.ok:
        sys.exit(1)


@click.command()
@click.option("--new-on", callback=parse_date, metavar="YYYY-MM-DD", help="First seen that day.")
@click.option(
    "--recurring-on", callback=parse_date, metavar="YYYY-MM-DD", help="Seen that day and before."
)
@click.option("--search", metavar="TEXT", help="Title or abstract contains TEXT (any case).")
@click.option("--limit", type=click.IntRange(min=1), help="Show at most this many.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines instead of a table.")
@pass_app
def papers(
    app: App,
    new_on: date | None,
    recurring_on: date | None,
    search: str | None,
    limit: int | None,
    as_json: bool,
) -> None:
    """List papers in the store, newest first (optionally filtered)."""
    found = app.pb.papers(new_on=new_on, recurring_on=recurring_on, search=search, limit=limit)
    for paper in found:
        if as_json:
            click.echo(
                json.dumps(
                    {
                        "key": paper.key,
                        "title": paper.title,
                        "arxiv_id": paper.arxiv_id,
                        "first_seen": paper.first_seen.isoformat(),
                        "last_seen": paper.last_seen.isoformat(),
                        "times_seen": paper.times_seen,
                        "links": list(paper.links),
                        "topics": list(paper.topics),
                    },
                    ensure_ascii=False,
                )
            )
        else:
            click.echo(f"{paper.first_seen}  x{paper.times_seen}  {paper.title}")
    if not as_json:
        click.echo(f"{len(found)} paper(s)", err=True)
