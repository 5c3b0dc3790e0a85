"""``paperboy init``, ``paperboy config`` and ``paperboy check``."""

from __future__ import annotations

import click

from pipeline.cli.common import App, pass_app
from pipeline.config import Config, describe_settings, redact_url
from pipeline.topics import topics_file


@click.command()
@click.option(
    "--feed-authority",
    metavar="DOMAIN",
    help="Domain (or email) you own, used in feed GUIDs (tag:DOMAIN,DATE:...). Only the first "
    "init sets it; it never changes after. Default: a random private name.",
)
@pass_app
def init(app: App, feed_authority: str | None) -> None:
    """Create the store (tables) and the output folder. Safe to run again."""
    entity = app.pb.init(feed_authority=feed_authority)
    click.echo(f"store ready: {redact_url(app.config.database_url)}")
    click.echo(f"output folder: {app.config.output_dir}")
    click.echo(f"feed GUIDs: tag:{entity}:...")


@click.command("config")
@click.option("--defaults", is_flag=True, help="List every setting with its default and help.")
@pass_app
def config_cmd(app: App, defaults: bool) -> None:
    """Show the effective configuration (or, with --defaults, every setting documented)."""
    if defaults:
        for key, default, text in describe_settings():
            click.echo(f"{key} = {default!r}\n    {text}")
        return
    cfg = app.config
    click.echo(f"config file: {cfg.path or '(embedded defaults)'}")
    click.echo(f"database: {redact_url(cfg.database_url)}")
    click.echo(f"output folder: {cfg.output_dir}")
    click.echo(f"site URL: {cfg.site_url}")
    click.echo(f"topics file: {topics_file(cfg.topics_file)}")
    click.echo(f"SMTP: {describe_smtp(cfg)}")
    if cfg.web.trusted_proxies:
        click.echo(f"trusted proxies: {cfg.web.trusted_proxies}")
    for source in cfg.sources:
        state = "" if source.enabled else " (disabled)"
        where = f" {source.path}" if source.path else ""
        click.echo(f"source {source.name}: {source.kind}{where}{state}")


def describe_smtp(cfg: Config) -> str:
    """Where digests go, without the password (only whether one is set)."""
    target = cfg.smtp
    if target is None:
        return f"none: .eml files in {cfg.output_dir / 'outbox'}"
    tls = "implicit TLS" if target.implicit_tls else "STARTTLS" if target.starttls else "no TLS"
    if not target.tls_verify:
        tls += " (certificate NOT verified)"
    password = "password set" if target.password else "no password"
    return f"{target.describe()}, {tls}, {password}"


@click.command()
@pass_app
def check(app: App) -> None:
    """Verify the store's invariants (identity, history, SQLite integrity); exit 1 if broken."""
    problems, counts = app.pb.check()
    summary = ", ".join(f"{value} {name}" for name, value in counts.items())
    for problem in problems:
        click.echo(f"FAIL {problem}", err=True)
    if problems:
        raise click.ClickException(f"{len(problems)} invariant(s) broken ({summary})")
    click.echo(f"store ok: {summary}")
