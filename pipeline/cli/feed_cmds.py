"""``paperboy feeds``: render every topic feed (RSS 2.0 and Atom) and the OPML index."""

from __future__ import annotations

import click

from pipeline.cli.common import App, pass_app


@click.command()
@click.option("--force", is_flag=True, help="Render even if nothing changed since the last time.")
@pass_app
def feeds(app: App, force: bool) -> None:
    """Write <output>/feeds/<topic>.xml (RSS 2.0) and .atom for every topic and for "all",
    plus feeds/index.opml. Files whose content did not change are left untouched; feeds of
    topics no longer configured are removed; nothing is rendered when neither the papers, the
    topics nor the settings changed since the last time.

    Needs [output] site_url (the public URL of the output folder) for absolute links.
    """
    report = app.pb.publish_feeds(force=force)
    removed = f", {len(report.removed)} removed (topic gone)" if report.removed else ""
    click.echo(
        f"{report.feeds} feed(s) in {report.folder}: {len(report.written)} file(s) written, "
        f"{report.unchanged} unchanged{removed}"
    )
