"""``paperboy fetch``: fetch and ingest one listing date from one configured source."""

from __future__ import annotations

from datetime import date

import click

from pipeline.cli.common import App, parse_date, pass_app
from pipeline.cli.ingest_cmds import page_line
from pipeline.config import SOURCE_KINDS, SourceConfig
from pipeline.errors import ConfigError, PipelineError
from pipeline.ingest.fetch import make_client
from pipeline.ingest.sources import ingest_source_date


def find_source(app: App, name: str) -> SourceConfig:
    """The configured source ``name``; ``hf-api``/``hf-html`` work without configuration."""
    for source in app.config.sources:
        if source.name == name:
            return source
    if name in SOURCE_KINDS and name != "files":
        return SourceConfig(name=name, kind=name)
    known = ", ".join(s.name for s in app.config.sources) or "none configured"
    raise ConfigError(f"no source named {name!r} (sources: {known}; built in: hf-api, hf-html)")


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
    now = app.now()
    day = listing_date or now.date()
    try:
        source = find_source(app, source_name)
        with make_client(app.config.http) as client:
            report = ingest_source_date(
                source, day, http=app.config.http, client=client, engine=app.engine(), now=now,
                max_file_bytes=app.config.ingest.max_page_bytes,
            )  # fmt: skip
    except PipelineError as exc:
        raise click.ClickException(f"{source_name} {day}: {exc}") from exc
    click.echo(page_line(report))
