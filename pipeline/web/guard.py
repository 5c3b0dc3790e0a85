"""What every response of ``paperboy serve`` gets, whatever a handler did. I/O edge: ASGI.

:class:`SiteRules` (issue 15.9): a path with a trailing slash is redirected to the same path
without it on ``site_url`` (Starlette's own redirect builds its ``Location`` from the request's
``Host`` header, which anyone can set); pages whose URL holds a token or that set the CSRF
cookie are ``Cache-Control: no-store`` (a shared cache must never keep them).

:class:`ErrorPages` turns an exception escaping a handler into a page of ours, so it still
passes :class:`~pipeline.web.app.SecurityHeaders` (Starlette's own last-resort 500 sits outside
every user middleware and sent a bare ``Internal Server Error`` without CSP: issue 15.2): a
store that is busy, locked or gone is a 503 with ``Retry-After``, anything else a 500. Both are
logged with the traceback and never cached.
"""

from __future__ import annotations

import logging

from starlette.datastructures import MutableHeaders
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pipeline.store.engine import unavailable_reason

log = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = 30  # a busy SQLite writer holds the lock for seconds, not minutes
# Paths whose pages carry a token (in the URL) or a CSRF cookie: never stored by any cache.
NO_STORE_PREFIXES = ("/confirm/", "/unsubscribe/", "/preferences/", "/subscribe")


class SiteRules:
    """Trailing-slash redirects built from ``site_url``; no-store on token and form pages."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", "/"))
        if path != "/" and path.endswith("/") and scope.get("method") in ("GET", "HEAD"):
            await self._redirect(scope, path)(scope, receive, send)
            return
        if not path.startswith(NO_STORE_PREFIXES):
            await self.app(scope, receive, send)
            return

        async def no_store(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, no_store)

    @staticmethod
    def _redirect(scope: Scope, path: str) -> Response:
        web = scope["app"].state.web
        query = bytes(scope.get("query_string", b"")).decode("latin-1")
        target = web.cfg.url_for(path.rstrip("/")) + (f"?{query}" if query else "")
        return RedirectResponse(target, status_code=307)


class ErrorPages:
    """Catch what a handler raised before answering; answer a 500 or 503 page instead."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        except Exception as exc:  # the web's one last resort: logged, answered
            if started:  # half a response is out: nothing better to do than to drop it
                raise
            await self._answer(scope, exc)(scope, receive, send)

    def _answer(self, scope: Scope, exc: Exception) -> Response:
        reason = unavailable_reason(exc)
        path = str(scope.get("path", ""))[:200]
        if reason is not None:
            log.warning("503 on %s: %s", path, reason)
            status, title = 503, "Busy"
            text = "The site is busy just now. Please try again in a minute."
        else:
            log.error("500 on %s", path, exc_info=exc)
            status, title, text = 500, "Error", "That did not work. Please try again later."
        response = _page(scope, title, text, status)
        response.headers["Cache-Control"] = "no-store"
        if status == 503:
            response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response


def _page(scope: Scope, title: str, text: str, status: int) -> Response:
    """The site's message page, or plain HTML when even templates fail."""
    app = scope.get("app")
    web = getattr(getattr(app, "state", None), "web", None)
    if web is not None:
        try:
            page: Response = web.message(title, text, status=status)
        except Exception:  # templates broken too: fall back to fixed HTML
            log.exception("error page could not be rendered")
        else:
            return page
    body = f"<!doctype html><title>{title}</title><h1>{title}</h1><p>{text}</p>"
    return HTMLResponse(body, status_code=status)
