"""Email rendering: structure and headers (E2-E4), golden bodies, escaping (X1-X3, X9)."""

from __future__ import annotations

import dataclasses
import re
from datetime import date
from email import message_from_bytes, policy
from html.parser import HTMLParser

import jinja2
import pytest

from pipeline.errors import RenderError
from pipeline.mail.headers import header_text, plain_text, safe_url
from pipeline.mail.render import (
    HTML_LIMIT,
    HTML_TEMPLATE,
    UNSUBSCRIBE_PLACEHOLDER,
    build_message,
    make_envs,
    message_id,
    render_bodies,
)
from pipeline.records import Edition, StoredPaper
from pipeline.resources import resource_path
from tests.email_support import SECRET, make_job
from tests.golden import assert_golden

DAY = date(2026, 11, 23)
TITLES = {"long-context": "Long context", "retrieval-rag": "Retrieval & RAG"}


def _paper(n: int, title: str, *, seen: int = 1, topics=("long-context",), abstract=None, **kw):
    return StoredPaper(
        key=f"arxiv:2311.{n:05d}",
        title=title,
        abstract=abstract
        if abstract is not None
        else f"Abstract {n}: we study long context & retrieval.",
        arxiv_id=f"2311.{n:05d}",
        links=(f"https://github.com/example/p{n}",) if n % 2 else (),
        first_seen=DAY if seen == 1 else date(2026, 11, 2),
        last_seen=DAY,
        times_seen=seen,
        topics=topics,
        **kw,
    )


EDITION = Edition(
    day=DAY,
    new=(
        _paper(
            1,
            "Attention Sinks",
            abstract="We keep a few initial tokens. Streaming then works for 4M tokens.",
            upvotes=42,
            comments=3,
            ai_summary="Keeping the attention sinks lets a model stream millions of tokens.",
            github_repo="https://github.com/example/p1",
            github_stars=1234,
            project_page="https://example.org/sinks/",
        ),
        _paper(
            2,
            "RAG <meets> long context",
            topics=("long-context", "retrieval-rag"),
            abstract="Retrieval helps. So does a longer context (e.g. 32K tokens).",
            upvotes=7,
            comments=0,
        ),
    ),
    recurring=(_paper(3, "LongLoRA", seen=4),),
)


def _render(edition=EDITION, job=None, chosen=("long-context", "retrieval-rag")):
    job = job or make_job()
    return render_bodies(
        edition, chosen=chosen, titles=TITLES, envs=job.envs, settings=job.settings
    )


def _message(bodies, *, job=None, subscriber_id=7, recipient="ann@example.com", now=None):
    job = job or make_job()
    from tests.conftest import NOW

    msgid = message_id(SECRET, subscriber_id=subscriber_id, edition=DAY, domain=job.settings.domain)
    return build_message(
        bodies,
        recipient=recipient,
        token="tok123tok123tok123",
        settings=job.settings,
        now=now or NOW,
        msgid=msgid,
    )


def _parse(raw: bytes):
    return message_from_bytes(raw, policy=policy.default)


def test_render_bodies_match_golden_files():
    raw = _message(_render())
    msg = _parse(raw)
    assert_golden("digest.txt", msg.get_body(("plain",)).get_content().replace("\r\n", "\n"))
    assert_golden("digest.html", msg.get_body(("html",)).get_content().replace("\r\n", "\n"))
    assert_golden("digest.eml", raw.decode("ascii"))


def test_build_message_structure_and_headers():
    raw = _message(_render())
    msg = _parse(raw)
    assert msg.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]
    for name in ("Date", "From", "To", "Subject", "Message-ID", "List-Id", "List-Unsubscribe"):
        assert len(msg.get_all(name)) == 1, name
    assert msg["Date"].datetime.tzinfo is not None
    assert str(msg["Date"]) == "Mon, 23 Nov 2026 06:00:00 +0000"
    assert re.fullmatch(r"<[0-9a-f]{32}@example\.org>", msg["Message-ID"])
    assert msg["To"] == "ann@example.com"
    assert msg["List-Id"] == "paperboy <digest.example.org>"
    assert msg["List-Unsubscribe"] == (
        "<https://digest.example.org/unsubscribe/tok123tok123tok123>, "
        "<mailto:digest@example.org?subject=unsubscribe%20tok123tok123tok123>"
    )
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))
    assert b"\n" not in raw.replace(b"\r\n", b"")  # no bare LF
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    order = ["Attention Sinks", "RAG <meets> long context", "LongLoRA"]
    assert [text.index(t) for t in order] == sorted(text.index(t) for t in order)
    assert [html.index(t.replace("<", "&lt;").replace(">", "&gt;")) for t in order] == sorted(
        html.index(t.replace("<", "&lt;").replace(">", "&gt;")) for t in order
    )
    assert "seen 4 times since 2026-11-02" in html and "Seen 4 times since 2026-11-02" in text
    assert "https://digest.example.org/unsubscribe/tok123tok123tok123" in text[:2000]
    assert UNSUBSCRIBE_PLACEHOLDER not in html + text
    # css-inline kept the <style> block (dark mode, phone widths) and inlined the rest.
    assert "@media (prefers-color-scheme: dark)" in html and "max-width: 480px" in html
    assert '<p class="title" style="' in html


def test_build_message_without_site_url_has_no_one_click_header():
    job = make_job(site_url="")
    msg = _parse(_message(_render(job=job), job=job))
    assert (
        msg["List-Unsubscribe"]
        == "<mailto:digest@example.org?subject=unsubscribe%20tok123tok123tok123>"
    )
    assert msg["List-Unsubscribe-Post"] is None
    html = msg.get_body(("html",)).get_content()
    body = html[html.index("<body") :]
    assert "mailto:digest@example.org?subject=unsubscribe%20tok123tok123tok123" in body[:2000]


def test_message_id_is_deterministic_and_depends_on_secret():
    one = message_id(SECRET, subscriber_id=1, edition=DAY, domain="example.org")
    assert one == message_id(SECRET, subscriber_id=1, edition=DAY, domain="example.org")
    assert one != message_id(SECRET, subscriber_id=2, edition=DAY, domain="example.org")
    assert one != message_id(
        SECRET, subscriber_id=1, edition=date(2026, 11, 24), domain="example.org"
    )
    assert one != message_id(b"other secret", subscriber_id=1, edition=DAY, domain="example.org")
    assert "1" not in one.split("@")[0].replace("1", "") and "ann" not in one


def test_render_bodies_caps_html_size_with_view_all_link():
    huge = tuple(
        _paper(i, f"Paper {i} " + "long context " * 20, abstract="word " * 2000) for i in range(400)
    )
    edition = Edition(day=DAY, new=huge, recurring=huge[:200])
    bodies = _render(edition, job=make_job(max_papers=400, abstract_chars=5000))
    assert len(bodies.html.encode()) < HTML_LIMIT
    assert "view all online" in bodies.html
    # issue 15.11: the link went to the site root; it is the edition's own page
    view_all = 'href="https://digest.example.org/editions/2026-11-23"'
    assert view_all in bodies.html
    assert "https://digest.example.org/editions/2026-11-23" in bodies.text
    assert bodies.html.index("Unsubscribe") < 2000 + bodies.html.index("<body")


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs.extend(attrs)

    def handle_data(self, data):
        self.text.append(data)


HOSTILE = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    '"><svg onload=alert(1)>',
    "javascript:alert(1)",
    "A & B < C > D ' \" end",
    "]]><![CDATA[ x",
    "line\r\nBcc: evil@example.com",
    "sep\u2028Bcc: evil@example.com",
    "A subject=?UTF-8?Q?=0A?=Bcc: injected@example.com",
    "trailing newline\n",
    "nul\x00and\x07bell\x1bescape",
    "rtl \u202egnp.exe\u202c",
    "nel\x85Bcc: evil@example.com",
    "x" * 100_000,
    "=?utf-8?b?QmNjOiBldmlsQGV4YW1wbGUuY29t?=",
    "<style>body{display:none}</style>",
    "<a href='javascript:alert(1)'>click</a>",
    "{{ 7*7 }} {% raw %}",
]


def test_hostile_titles_are_escaped_in_html_and_cannot_break_headers():
    papers = tuple(
        dataclasses.replace(
            _paper(i, title, abstract=title, topics=("long-context",)),
            links=("javascript:alert(1)", 'https://ok.example/x"onmouseover=1'),
        )
        for i, title in enumerate(HOSTILE * 3)  # 54 hostile inputs
    )
    titles = {"long-context": HOSTILE[8] + HOSTILE[6]}
    job = make_job(max_papers=200, abstract_chars=200)
    for paper in papers:
        edition = Edition(day=DAY, new=(paper,), recurring=())
        bodies = render_bodies(
            edition, chosen=("long-context",), titles=titles, envs=job.envs, settings=job.settings
        )
        msg = _parse(_message(bodies, job=job))
        assert sorted(msg.keys()) == sorted(
            [
                "From",
                "To",
                "Subject",
                "Date",
                "Message-ID",
                "List-Id",
                "List-Unsubscribe",
                "List-Unsubscribe-Post",
                "MIME-Version",
                "Content-Type",
            ]
        )
        assert msg["Bcc"] is None and msg["To"] == "ann@example.com"
        assert msg["From"] == "paperboy <digest@example.org>"
        assert "\n" not in str(msg["Subject"]) and len(str(msg["Subject"])) < 260
        html = msg.get_body(("html",)).get_content()
        collector = _Collector()
        collector.feed(html)
        assert "script" not in collector.tags and "svg" not in collector.tags
        assert collector.tags.count("style") == 1  # only ours
        assert not [name for name, _v in collector.attrs if name.startswith("on")]
        assert not [
            v for _n, v in collector.attrs if v and v.strip().lower().startswith("javascript:")
        ]
        expected = plain_text(paper.title)[:200]
        assert expected[:60] in "".join(collector.text) or not expected.strip()


def test_header_text_sanitises_controls_and_encoded_words():
    assert header_text("a\r\nBcc: x") == "a Bcc: x"
    assert header_text("a\u2028b\u2029c\x85d") == "a b c d"
    assert "=?" not in header_text("x =?UTF-8?Q?=0A?=Bcc: y")
    assert header_text("end\n") == "end"
    assert len(header_text("y" * 1000)) == 200


def test_safe_url_allows_only_absolute_http():
    assert safe_url("https://github.com/a/b") == "https://github.com/a/b"
    for bad in (
        "javascript:alert(1)",
        "//evil",
        "data:text/html,x",
        "https://a b",
        "http://",
        None,
        "",
    ):
        assert safe_url(bad) is None


def test_html_environment_autoescapes_and_text_does_not():
    envs = make_envs(resource_path("templates"))
    assert envs.html.autoescape(HTML_TEMPLATE) is True  # type: ignore[operator]
    assert envs.html.autoescape("email/digest.html.j2") is False  # type: ignore[operator]
    assert envs.text.autoescape is False
    assert isinstance(envs.html.undefined(), jinja2.StrictUndefined)


def test_render_bodies_refuses_environment_without_autoescape():
    job = make_job()
    unsafe = dataclasses.replace(job.envs, html=jinja2.Environment(loader=job.envs.html.loader))
    with pytest.raises(RenderError, match="autoescape is off"):
        render_bodies(
            EDITION, chosen=("long-context",), titles=TITLES, envs=unsafe, settings=job.settings
        )
