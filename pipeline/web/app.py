"""The ASGI app behind ``paperboy serve``: built from config by :func:`create_app`.

I/O edge: wiring only, over a :class:`~pipeline.app.Paperboy` (store, templates, secret,
transport, clock). Tests give the Paperboy a clock they move, to expire tokens.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pipeline.config import parse_networks
from pipeline.mail.render import email_settings, make_envs
from pipeline.resources import resource_path
from pipeline.store.subscribe_requests import RateLimits
from pipeline.web import health, membership, pages, subscription
from pipeline.web.context import Web, web_of
from pipeline.web.guard import ErrorPages, SiteRules
from pipeline.web.tokens import Tokens

if TYPE_CHECKING:
    from pipeline.app import Paperboy

CSS_TEMPLATE = "web/site.css"
# No script anywhere; styles from our own file; forms post only to us; never framed. Tokens
# sit in URLs (unsubscribe, preferences), so no Referer may carry them to paper links.
SECURITY_HEADERS: Mapping[str, str] = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
        "base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


class SecurityHeaders:
    """Adds :data:`SECURITY_HEADERS` to every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [(k.lower().encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


async def stylesheet(request: Request) -> Response:
    """The site's CSS (one file, so the CSP needs no inline styles)."""
    web = web_of(request)
    css = web.envs.text.get_template(CSS_TEMPLATE).render()
    return Response(
        css, media_type="text/css; charset=utf-8", headers={"Cache-Control": "public, max-age=3600"}
    )


async def http_error(request: Request, exc: Exception) -> Response:
    """404/405 and friends as a page."""
    web = web_of(request)
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    text = "There is nothing at this address." if status == 404 else "That did not work."
    response = web.message("Not found" if status == 404 else "Error", text, status=status)
    if isinstance(exc, HTTPException) and exc.headers:
        response.headers.update(exc.headers)  # e.g. Allow on 405
    return response


Endpoint = Callable[[Request], Awaitable[Response]]


def _get_post(get: Endpoint, post: Endpoint) -> Endpoint:
    """One endpoint for a path's GET (and HEAD) and POST, so a 405 lists both in Allow."""

    async def endpoint(request: Request) -> Response:
        return await (post if request.method == "POST" else get)(request)

    return endpoint


ROUTES = [
    Route("/", pages.home),
    Route("/site.css", stylesheet),
    Route("/editions", pages.editions),
    Route("/editions/{day}", pages.edition),
    Route("/topics/{slug}", pages.topic),
    Route("/search", pages.search),
    Route("/health", health.health),
    Route("/index.opml", pages.feed_file),
    Route("/feeds/{name}", pages.feed_file),
    Route(
        "/subscribe",
        _get_post(subscription.subscribe_form, subscription.subscribe),
        methods=["GET", "POST"],
    ),
    Route(
        "/confirm/{token}",
        _get_post(membership.confirm_page, membership.confirm),
        methods=["GET", "POST"],
    ),
    Route(
        "/unsubscribe/{token}",
        _get_post(membership.unsubscribe_page, membership.unsubscribe),
        methods=["GET", "POST"],
    ),
    Route(
        "/preferences/{token}",
        _get_post(membership.preferences_page, membership.preferences),
        methods=["GET", "POST"],
    ),
]


def create_app(pb: Paperboy, *, limits: RateLimits | None = None) -> Starlette:
    """The web face of ``pb``'s store and output folder (its clock dates tokens and requests)."""
    secret = pb.secret
    web = Web(
        pb=pb,
        cfg=pb.config,
        engine=pb.engine,
        topics=pb.topics,
        envs=make_envs(resource_path("templates")),  # web pages are not user templates
        settings=email_settings(pb.config),
        secret=secret,
        tokens=Tokens(secret=secret, clock=pb.clock),
        limits=limits or RateLimits(),
        now=pb.clock,
        transport=lambda at: pb.transport(at.date()),
        trusted_proxies=parse_networks(pb.config.web.trusted_proxies),
    )
    app = Starlette(
        routes=ROUTES,
        # outermost first: security headers go on everything, error pages included
        middleware=[Middleware(SecurityHeaders), Middleware(ErrorPages), Middleware(SiteRules)],
        exception_handlers={HTTPException: http_error},
    )
    app.router.redirect_slashes = False  # its Location comes from the Host header: SiteRules
    app.state.web = web
    return app
