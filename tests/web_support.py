"""Helpers for web tests: a seeded store with feeds, an app with a movable clock, mail readers."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from starlette.applications import Starlette
from starlette.testclient import TestClient

from pipeline.app import Paperboy
from pipeline.config import Config, Secrets
from pipeline.feeds.publish import render_all_feeds
from pipeline.store.subscribe_requests import RateLimits
from pipeline.topics import load_topics, topics_file
from pipeline.web.app import create_app
from tests.conftest import make_config
from tests.email_support import SECRET, seed

SITE = "https://digest.example.org"
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "srcset", "poster"}
CONFIRM_LINK = re.compile(r"https?://[^\s/]+(?:/[^\s]*)?/confirm/[A-Za-z0-9._-]+")


@dataclass
class Clock:
    """A clock tests move by hand."""

    at: datetime

    def __call__(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        self.at += timedelta(**delta)


def web_config(tmp_path: Path, *, site_url: str = SITE + "/", smtp_url: str = "") -> Config:
    return make_config(
        tmp_path,
        output={"site_url": site_url, "title": "paperboy"},
        email={"sender": "paperboy <digest@example.org>", "smtp_url": smtp_url},
    )


def build_app(
    cfg: Config, engine: Engine, clock: Clock, *, limits: RateLimits | None = None
) -> Starlette:
    cfg = dataclasses.replace(cfg, secrets=Secrets(secret=SECRET.decode()))
    pb = Paperboy(cfg, engine=engine, clock=clock, topics=load_topics(topics_file(None)))
    return create_app(pb, limits=limits)


def seeded(cfg: Config, engine: Engine, now: datetime) -> None:
    """Two editions in the store and their feeds on disk."""
    seed(engine, now)
    render_all_feeds(cfg, engine=engine, topics=load_topics(topics_file(None)), now=now)


def eml_messages(cfg: Config) -> list[EmailMessage]:
    """Messages the .eml transport wrote, oldest first."""
    files = sorted((cfg.output_dir / "outbox").rglob("*.eml"), key=lambda p: p.stat().st_mtime_ns)
    return [message_from_bytes(p.read_bytes(), policy=policy.default) for p in files]  # type: ignore[misc]


def confirm_link(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    found = CONFIRM_LINK.search(body.get_content())
    assert found, body.get_content()
    return found.group(0)


@dataclass
class Page(HTMLParser):
    """Elements, attributes and text of an HTML page, as a browser's parser sees them."""

    tags: list[tuple[str, dict[str, str | None]]] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        HTMLParser.__init__(self)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.texts.append(data)

    @property
    def text(self) -> str:
        return "".join(self.texts)

    def inputs(self, name: str) -> list[dict[str, str | None]]:
        return [a for t, a in self.tags if t == "input" and a.get("name") == name]


def parse_page(html: str) -> Page:
    page = Page()
    page.feed(html)
    page.close()
    return page


def csrf_of(client: TestClient, path: str) -> str:
    page = parse_page(client.get(path).text)
    value = page.inputs("csrf")[0]["value"]
    assert value
    return value


def assert_safe_html(html: str) -> Page:
    """No script element, no event handler attribute, no javascript: URL (X1)."""
    page = parse_page(html)
    for tag, attrs in page.tags:
        assert tag != "script", html
        for name, value in attrs.items():
            assert not name.startswith("on"), (tag, name)
            if name in URL_ATTRIBUTES:
                assert not (value or "").strip().lower().startswith("javascript:"), (tag, value)
    return page


def subscribe_form(csrf: str, email: str, *topics: str, **extra: Any) -> dict[str, Any]:
    return {"csrf": csrf, "email": email, "topics": list(topics), **extra}
