"""The web face's shared state and page rendering. I/O edge: wires config, store and templates.

One :class:`Web` is built per app by :func:`pipeline.web.app.create_app`; handlers get it from
``request.app.state.web``. Pages are rendered by the autoescaping jinja environment with
StrictUndefined (docs/reliability.md §6.1) from ``templates/web/*.html``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse

from pipeline.config import Config
from pipeline.mail.render import EVERYTHING, EmailEnvs, EmailSettings, check_autoescape
from pipeline.mail.transports import Transport
from pipeline.records import ALL_TOPICS
from pipeline.store.subscribe_requests import RateLimits
from pipeline.topics import Topic
from pipeline.web.tokens import Tokens, new_nonce
from pipeline.web.views import topic_view

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from pipeline.app import Paperboy

CSRF_COOKIE = "paperboy_csrf"
CSRF_FIELD = "csrf"


@dataclass(frozen=True)
class Web:
    """Everything the handlers need: config, store, topics, templates, secret, clock."""

    pb: Paperboy
    cfg: Config
    engine: Engine
    topics: tuple[Topic, ...]
    envs: EmailEnvs
    settings: EmailSettings
    secret: bytes
    tokens: Tokens
    limits: RateLimits
    now: Callable[[], datetime]
    transport: Callable[[datetime], Transport]
    # [web] trusted_proxies, parsed: whose X-Forwarded-For is believed (pipeline.web.forms)
    trusted_proxies: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()

    @property
    def base(self) -> str:
        """The site URL's path ('' at the root): prefix of every link in pages."""
        return urlsplit(self.settings.site_url).path.rstrip("/")

    @property
    def titles(self) -> Mapping[str, str]:
        """Topic slug -> title (and ``all`` -> "Everything")."""
        return {ALL_TOPICS: EVERYTHING, **{t.slug: t.title for t in self.topics}}

    def topic(self, slug: str) -> Topic | None:
        """The configured topic ``slug``, or None."""
        return next((t for t in self.topics if t.slug == slug), None)

    def page(
        self,
        name: str,
        context: Mapping[str, Any],
        *,
        status: int = 200,
        request: Request | None = None,
    ) -> HTMLResponse:
        """Render ``web/<name>.html``; with ``request``, also a CSRF token and its cookie."""
        template = f"web/{name}.html"
        check_autoescape(self.envs.html, template)
        values: dict[str, Any] = {
            "base": self.base,
            "list_title": self.settings.list_title,
            "nav_topics": [topic_view(t) for t in self.topics],
            "csrf": "",
            **context,
        }
        nonce = None
        if request is not None:
            nonce = request.cookies.get(CSRF_COOKIE) or new_nonce()
            values["csrf"] = self.tokens.csrf_token(nonce)
        html = self.envs.html.get_template(template).render(values)
        response = HTMLResponse(html, status_code=status)
        if nonce is not None:
            response.set_cookie(
                CSRF_COOKIE,
                nonce,
                httponly=True,
                samesite="lax",
                secure=self.settings.site_url.startswith("https://"),
                path="/",
            )
        return response

    def message(self, title: str, text: str, *, status: int = 200) -> HTMLResponse:
        """A page that only says something (errors, confirmations)."""
        return self.page("message", {"title": title, "text": text}, status=status)


def web_of(request: Request) -> Web:
    """The app's :class:`Web`."""
    web: Web = request.app.state.web
    return web
