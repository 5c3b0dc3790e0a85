"""``paperboy feeds``: render every topic feed (RSS 2.0 and Atom) and the OPML index."""

from __future__ import annotations

import click

from pipeline.cli.common import App, pass_app


@click.command()
@pass_app
def feeds(app: App) -> None:
    """Write <output>/feeds/<topic>.xml (RSS 2.0) and .atom for every topic and for "all",
    plus feeds/index.opml. Files whose content did not change are left untouched; feeds of
    topics no longer configured are removed.

    Needs [output] site_url (the public URL of the output folder) for absolute links.
    """
    report = app.pb.publish_feeds()
    removed = f", {len(report.removed)} removed (topic gone)" if report.removed else ""
    click.echo(
        f"{report.feeds} feed(s) in {report.folder}: {len(report.written)} file(s) written, "
        f"{report.unchanged} unchanged{removed}"
    )
