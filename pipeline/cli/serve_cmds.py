"""``paperboy serve``: the web face (feeds, archive, subscribe, one-click unsubscribe)."""

from __future__ import annotations

import click

from pipeline.cli.common import App, pass_app


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    default=8080,
    show_default=True,
    type=click.IntRange(1, 65535),
    help="Port to listen on.",
)
@pass_app
def serve(app: App, host: str, port: int) -> None:
    """Serve the feeds, the archive and the subscribe/unsubscribe pages over HTTP.

    Put it behind a TLS-terminating proxy and set [output] site_url to its public https URL:
    confirmation and unsubscribe links are built from site_url, never from requests. Set
    [web] trusted_proxies to the proxy's address so per-visitor limits see the real client.
    """
    import uvicorn

    web_app = app.pb.web_app()
    click.echo(f"serving {app.config.output_dir} on http://{host}:{port}/", err=True)
    # proxy_headers off: uvicorn would believe X-Forwarded-For from 127.0.0.1 by default, so a
    # client on this host could forge its address; [web] trusted_proxies decides (docs/web.md)
    uvicorn.run(
        web_app, host=host, port=port, log_level="info", server_header=False, proxy_headers=False
    )
