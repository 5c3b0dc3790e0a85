"""``paperboy fetch``: fetch and ingest one listing date from one configured source."""

from __future__ import annotations

from datetime import date

import click

from pipeline.cli.common import App, parse_date, pass_app
from pipeline.cli.ingest_cmds import page_line
from pipeline.errors import PipelineError


@click.command()
@click.argument("source_name", metavar="SOURCE")
@click.option(
    "--date",
    "listing_date",
    callback=parse_date,
    metavar="YYYY-MM-DD",
    help="Listing date to fetch (default: today, UTC).",
)
@pass_app
def fetch(app: App, source_name: str, listing_date: date | None) -> None:
    """Fetch one listing date from SOURCE (a configured source, hf-api or hf-html) and ingest it.

    Prints the page line (papers, new, recurring; "unchanged" when the server answered 304).
    Exits 1 if the fetch or the parse failed; nothing is stored then.
    """
    day = listing_date or app.now().date()
    try:
        report = app.pb.fetch(source_name, day)
    except PipelineError as exc:
        raise click.ClickException(f"{source_name} {day}: {exc}") from exc
    click.echo(page_line(report))
