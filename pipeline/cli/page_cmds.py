"""``paperboy pages list|remove``: the stored pages, and taking a wrong one back out."""

from __future__ import annotations

from datetime import date

import click

from pipeline.cli.common import App, pass_app
from pipeline.records import PageRemoval


def _day(_ctx: click.Context, _param: click.Parameter, value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date like 2026-03-14") from None


@click.group()
def pages() -> None:
    """List the stored pages (one per source and date) or remove a wrong one."""


@pages.command("list")
@click.argument("source", required=False)
@pass_app
def list_cmd(app: App, source: str | None) -> None:
    """List stored pages, newest first: source, date, papers, mailed, origin."""
    found = app.pb.pages(source)
    for page in found:
        mailed = f"mailed {page.mailed}" if page.mailed else "not mailed"
        click.echo(
            f"{page.source}\t{page.listing_date}\t{page.papers} papers\t{mailed}\t{page.origin}"
        )
    click.echo(f"{len(found)} page(s)", err=True)


def describe_removal(removal: PageRemoval) -> str:
    """One line: what removing the page changed (or would change)."""
    verb = "would remove" if removal.dry_run else "removed"
    parts = [
        f"{removal.appearances} appearance(s)",
        f"{removal.papers_deleted} paper(s) deleted (listed on no other page)",
        f"{removal.papers_changed} paper(s) with new first/last seen",
    ]
    tail = ""
    if removal.edition_gone:
        tail = f"; edition {removal.listing_date} gone"
        if removal.cancelled:
            tail += f" ({removal.cancelled} unsent message(s) cancelled)"
    if removal.mailed:
        tail += f"; {removal.mailed} message(s) already sent stay sent"
    return f"{verb} page {removal.source} {removal.listing_date}: {', '.join(parts)}{tail}"


@pages.command("remove")
@click.argument("source")
@click.argument("day", metavar="DATE", callback=_day)
@click.option("--force", is_flag=True, help="Remove it even if its edition was mailed.")
@click.option("--dry-run", is_flag=True, help="Say what would change, change nothing.")
@pass_app
def remove_cmd(app: App, source: str, day: date, force: bool, dry_run: bool) -> None:
    """Remove the page SOURCE DATE: its appearances, papers listed nowhere else, and the
    papers' first/last seen recomputed; then rewrite the feeds.

    Refuses a page whose edition was mailed unless --force (sent mail stays sent).
    """
    removal = app.pb.remove_page(source, day, force=force, dry_run=dry_run)
    click.echo(describe_removal(removal))
    if not dry_run:
        click.echo(f"feeds: {removal.feeds_written} file(s) written")
