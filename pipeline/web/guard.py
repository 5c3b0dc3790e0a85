"""What every response of ``paperboy serve`` gets, whatever a handler did. I/O edge: ASGI.

:class:`ErrorPages` turns an exception escaping a handler into a page of ours, so it still
passes :class:`~pipeline.web.app.SecurityHeaders` (Starlette's own last-resort 500 sits outside
every user middleware and sent a bare ``Internal Server Error`` without CSP: issue 15.2): a
store that is busy, locked or gone is a 503 with ``Retry-After``, anything else a 500. Both are
logged with the traceback and never cached.
"""

from __future__ import annotations

import logging

from starlette.responses import HTMLResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pipeline.store.engine import unavailable_reason

log = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = 30  # a busy SQLite writer holds the lock for seconds, not minutes


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
