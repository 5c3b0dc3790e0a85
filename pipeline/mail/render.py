"""Email digests: bodies from templates, then one message per subscriber. Pure; no I/O.

Bodies are rendered once per distinct topic set (:func:`render_bodies`) with a placeholder for
the unsubscribe URL; :func:`build_message` only fills in that URL and the headers, so the cost of
a run grows with the number of topic sets, not subscribers (docs/reliability.md §2.2.5). Message-IDs
are ``HMAC-SHA256(secret, subscriber|edition)`` (deterministic, unguessable: 2.1); every header
value made from data goes through :func:`pipeline.mail.headers.header_text` (6.3).
"""

from __future__ import annotations

import binascii
import functools
import hashlib
import hmac
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, parseaddr
from pathlib import Path
from typing import Any
from urllib.parse import quote

import css_inline
import jinja2

from pipeline.addresses import normalize_email
from pipeline.config import Config, join_url, normalize_site_url
from pipeline.errors import ConfigError, RenderError
from pipeline.mail.contents import sections_for
from pipeline.mail.headers import header_text
from pipeline.mail.paper_view import paper_view
from pipeline.records import ALL_TOPICS, Edition, StoredPaper

HTML_TEMPLATE = "email/digest.html"
TEXT_TEMPLATE = "email/digest.txt"
HTML_LIMIT = 100_000  # bytes; Gmail clips HTML over ~102 KB (docs/reliability.md §2.1)
# Stands in for the subscriber's unsubscribe URL in shared bodies: URL-safe, so autoescaping and
# CSS inlining leave it as is, and it cannot occur in escaped data (it has no '<' to fake).
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
_MSGID = re.compile(r"^<[0-9a-f]{32}@[A-Za-z0-9.-]+>$")
UNSUBSCRIBE_PLACEHOLDER = "https://paperboy.invalid/UNSUBSCRIBE-URL-PLACEHOLDER"
EVERYTHING = "Everything"  # what a subscription to ALL_TOPICS is called


@dataclass(frozen=True)
class EmailEnvs:
    """The two jinja environments: autoescaping for HTML, plain for text."""

    html: jinja2.Environment
    text: jinja2.Environment


@dataclass(frozen=True)
class EmailSettings:
    """What message building needs from the configuration."""

    list_title: str
    sender_name: str
    sender_address: str
    site_url: str  # ends in "/" (Config.site_url); "" when none is configured
    unsubscribe_address: str
    max_papers: int = 25
    abstract_chars: int = 320
    weekly_per_topic: int = 10

    def url_for(self, path: str) -> str | None:
        """The public URL of ``path`` on the site, or None without a site URL."""
        return join_url(self.site_url, path) if self.site_url else None

    @property
    def domain(self) -> str:
        """The mail domain (Message-ID right-hand side, List-Id)."""
        return self.sender_address.rpartition("@")[2]


@dataclass(frozen=True)
class Bodies:
    """Rendered text and HTML of one topic set's digest (unsubscribe URL still a placeholder)."""

    text: str
    html: str
    subject: str
    boundary: str = "=_paperboy"  # "=_" cannot occur in quoted-printable
    head: bytes = b""  # the folded headers every message of this topic set shares
    text_qp: tuple[bytes, ...] = ()  # the parts encoded, cut at the unsubscribe URL
    html_qp: tuple[bytes, ...] = ()

    def for_sending(self) -> Bodies:
        """Only what :func:`build_message` uses (the rendered text and HTML dropped): a third
        of the memory, for a run that keeps every topic set's bodies."""
        return replace(self, text="", html="")


def make_envs(templates_dir: Path) -> EmailEnvs:
    """Build the HTML (autoescaping) and text (non-escaping) environments, StrictUndefined."""
    common: dict[str, Any] = {
        "loader": jinja2.FileSystemLoader(str(templates_dir)),
        "undefined": jinja2.StrictUndefined,
        "trim_blocks": True,
        "lstrip_blocks": True,
        "keep_trailing_newline": True,
    }
    html = jinja2.Environment(autoescape=jinja2.select_autoescape(["html"]), **common)
    text = jinja2.Environment(autoescape=False, **common)
    text.filters["wordwrap"] = _remembered_wordwrap(text)
    return EmailEnvs(html=html, text=text)


_WRAPS_KEPT = 4096  # wrapped texts remembered per text environment (a few per paper)


def _remembered_wordwrap(env: jinja2.Environment) -> Any:
    """Jinja's ``wordwrap`` filter, remembering its results: every topic set of an edition wraps
    the same abstracts the same way, so each is wrapped once (output unchanged)."""
    wrap = jinja2.filters.do_wordwrap

    @functools.lru_cache(maxsize=_WRAPS_KEPT)
    def wrapped(text: str, *args: Any, **kwargs: Any) -> str:
        return wrap(env, text, *args, **kwargs)

    @jinja2.pass_environment
    def wordwrap(_env: jinja2.Environment, text: Any, *args: Any, **kwargs: Any) -> str:
        if type(text) is not str:  # Markup and the like: not remembered
            return wrap(env, text, *args, **kwargs)
        return wrapped(text, *args, **kwargs)

    return wordwrap


def settings_from(
    *, title: str, sender: str, site_url: str, unsubscribe_address: str, **limits: int
) -> EmailSettings:
    """Validate the sender and unsubscribe addresses from config into :class:`EmailSettings`."""
    name, address = parseaddr(sender)
    try:
        address, _key = normalize_email(address, local_domain_ok=True)
        unsubscribe, _key = normalize_email(unsubscribe_address or address, local_domain_ok=True)
    except ConfigError as exc:
        raise ConfigError(str(exc), key="email.sender / email.unsubscribe_address") from None
    return EmailSettings(
        list_title=header_text(title, limit=80) or "paperboy",
        sender_name=header_text(name, limit=80),
        sender_address=address,
        site_url=normalize_site_url(site_url, where="<settings>") if site_url.strip() else "",
        unsubscribe_address=unsubscribe,
        **limits,
    )


def email_settings(cfg: Config) -> EmailSettings:
    """The :class:`EmailSettings` of a configuration."""
    return settings_from(
        title=cfg.output.title,
        sender=cfg.email.sender,
        site_url=cfg.site_url,
        unsubscribe_address=cfg.email.unsubscribe_address,
        max_papers=cfg.email.max_papers_per_section,
        abstract_chars=cfg.email.abstract_chars,
        weekly_per_topic=cfg.email.weekly_papers_per_topic,
    )


def message_id(
    secret: bytes, *, subscriber_id: int, edition: date, domain: str, kind: str = "daily"
) -> str:
    """``<hmac[:32]@domain>``: the same on every retry, unguessable without the secret; a
    weekly edition's differ from the daily ones (``subscriber|weekly|2026-W34``)."""
    name = edition.isoformat()
    if kind != "daily":
        year, week, _weekday = edition.isocalendar()
        name = f"{kind}|{year}-W{week:02d}"
    mac = hmac.new(secret, f"{subscriber_id}|{name}".encode(), hashlib.sha256)
    return f"<{mac.hexdigest()[:32]}@{domain}>"


class PaperViews:
    """Each paper's template view (excerpts, links, topic titles) built once and shared by every
    topic set of an edition: one per edition, keyed by paper key. A different paper object
    under a known key (another edition's) gets a fresh view, so sharing never changes output."""

    def __init__(self) -> None:
        self._held: dict[tuple[str, int], tuple[StoredPaper, dict[str, Any]]] = {}

    def __len__(self) -> int:
        return len(self._held)

    def view(self, paper: StoredPaper, titles: Mapping[str, str], limit: int) -> dict[str, Any]:
        """The view of ``paper`` (abstract cut to ``limit``), built on first use."""
        key = (paper.key, limit)
        held = self._held.get(key)
        if held is not None and held[0] is paper:
            return held[1]
        view = _paper_view(paper, titles, limit)
        self._held[key] = (paper, view)
        return view


def _paper_view(paper: StoredPaper, titles: Mapping[str, str], limit: int) -> dict[str, Any]:
    topics = [titles.get(slug, slug) for slug in paper.topics]
    return paper_view(paper, topics=topics, abstract_chars=limit)


def digest_context(
    edition: Edition,
    *,
    chosen: Sequence[str],
    titles: Mapping[str, str],
    settings: EmailSettings,
    max_papers: int,
    views: PaperViews | None = None,
) -> dict[str, Any]:
    """The template data for one topic set: the same for the HTML and the text part.

    A subscriber to everything (``all``) gets the papers no topic takes in an "Other" section
    (:func:`pipeline.mail.contents.sections_for`). ``views`` shares paper views between the
    edition's topic sets (the titles must be the same for all of them).
    """
    limit = settings.abstract_chars
    views = PaperViews() if views is None else views
    sections = sections_for(
        edition,
        chosen=chosen,
        titles=dict(titles),
        per_topic=settings.weekly_per_topic,
        cap=max_papers,
    )
    blocks = [
        (s.name, [views.view(p, titles, limit) for p in s.papers], s.total, s.recurring, s.note)
        for s in sections
    ]
    return {
        "list_title": settings.list_title,
        "edition": edition.ref.label,
        "edition_long": _long_name(edition),
        "summary": _summary(edition),
        "topics": [{**titles, ALL_TOPICS: EVERYTHING}.get(slug, slug) for slug in chosen],
        "sections": [block for block in blocks if block[2]],
        "empty": edition.empty,
        "new_total": len(edition.new),
        "recurring_total": len(edition.recurring),
        # the edition's own page (issue 15.11: the site root), filtered when one topic is chosen
        "view_all_url": settings.url_for(edition_path(edition, chosen)),
        "unsubscribe_url": UNSUBSCRIBE_PLACEHOLDER,
    }


def edition_path(edition: Edition, chosen: Sequence[str]) -> str:
    """The web page of an edition (``paperboy serve``): ``editions/D[?topic=SLUG]``; a weekly
    edition spans several days: the archive of editions."""
    if edition.kind == "weekly":
        return "editions"
    path = f"editions/{edition.day.isoformat()}"
    one = len(chosen) == 1 and chosen[0] != ALL_TOPICS
    return f"{path}?topic={quote(chosen[0])}" if one else path


def _long_name(edition: Edition) -> str:
    """``Monday 23 November 2026``, or ``Week 34: 17 to 23 August 2026`` for a weekly one."""
    if edition.kind != "weekly":
        return edition.day.strftime("%A %-d %B %Y")
    last = edition.ref.last_day
    first = f"{edition.day:%-d}" if edition.day.month == last.month else f"{edition.day:%-d %B}"
    return f"Week {edition.day.isocalendar()[1]}: {first} to {last:%-d %B %Y}"


def _summary(edition: Edition) -> str:
    """``2 new, 1 back again`` (``, 3 added late``); weekly: ``12 papers in your topics``."""
    if edition.kind == "weekly":
        text = f"{len(edition.new)} paper{'s' * (len(edition.new) != 1)} in your topics"
    else:
        text = f"{len(edition.new)} new, {len(edition.recurring)} back again"
    return text + (f", {len(edition.late)} added late" if edition.late else "")


def _render(env: jinja2.Environment, name: str, context: Mapping[str, Any]) -> str:
    try:
        return env.get_template(name).render(context)
    except jinja2.TemplateNotFound:
        raise RenderError(name, f"template not found under {env.loader and _where(env)}") from None
    except jinja2.TemplateError as exc:
        raise RenderError(name, f"{type(exc).__name__}: {exc}") from exc


def _where(env: jinja2.Environment) -> str:
    loader = env.loader
    paths = getattr(loader, "searchpath", [])
    return ", ".join(str(p) for p in paths)


def check_autoescape(env: jinja2.Environment, name: str) -> None:
    """Refuse to render HTML from an environment that would not escape ``name`` (X3)."""
    auto = env.autoescape
    on = auto(name) if callable(auto) else bool(auto)
    if not on:
        raise RenderError(name, "autoescape is off for this HTML template (name must end in .html)")


def subject_for(edition: Edition, *, topics: Sequence[str], settings: EmailSettings) -> str:
    """``<list> <date> · <topics>: <first title> (+N more)``, sanitised and truncated; a weekly
    edition says ``week 2026-W34``."""
    papers = [*edition.new, *edition.recurring, *(item.paper for item in edition.late)]
    lead = papers[0].title if papers else "no papers"
    more = f" (+{len(papers) - 1} more)" if len(papers) > 1 else ""
    topic_part = ", ".join(header_text(t, limit=40) for t in topics[:3])
    name = f"week {edition.ref.label}" if edition.kind == "weekly" else f"{edition.day}"
    return header_text(f"{settings.list_title} {name}: {topic_part}: {lead}") + more


def render_bodies(
    edition: Edition,
    *,
    chosen: Sequence[str],
    titles: Mapping[str, str],
    envs: EmailEnvs,
    settings: EmailSettings,
    views: PaperViews | None = None,
) -> Bodies:
    """Render one topic set's text and HTML; halve the papers per section until HTML fits.

    ``views`` (one per edition) shares the papers' views with the edition's other topic sets.
    """
    check_autoescape(envs.html, HTML_TEMPLATE)
    inliner = css_inline.CSSInliner(keep_style_tags=True, load_remote_stylesheets=False)
    cap = max(1, settings.max_papers)
    while True:
        context = digest_context(
            edition, chosen=chosen, titles=titles, settings=settings, max_papers=cap, views=views
        )
        html = inliner.inline(_render(envs.html, HTML_TEMPLATE, context))
        if len(html.encode()) <= HTML_LIMIT - 500 or cap == 1:
            break
        cap //= 2
    text = _render(envs.text, TEXT_TEMPLATE, context)
    subject = subject_for(edition, topics=context["topics"], settings=settings)
    boundary = "=_" + hashlib.sha256((text + html).encode()).hexdigest()[:24]
    head = _common_head(subject, settings, boundary)
    return Bodies(
        text=text,
        html=html,
        subject=subject,
        boundary=boundary,
        head=head,
        text_qp=_qp_chunks("plain", text),
        html_qp=_qp_chunks("html", html),
    )


def unsubscribe_urls(settings: EmailSettings, token: str) -> tuple[str | None, str]:
    """(https URL or None, mailto URL) for the subscriber owning ``token``."""
    if not _TOKEN.match(token):
        raise ValueError("unsubscribe tokens are URL-safe ASCII")
    mailto = f"mailto:{settings.unsubscribe_address}?subject={quote('unsubscribe ' + token)}"
    https = settings.url_for(f"unsubscribe/{token}")
    return https, mailto


def _common_head(subject: str, settings: EmailSettings, boundary: str) -> bytes:
    """The headers shared by a topic set's messages, folded once by the email package."""
    head = EmailMessage(policy=SMTP)
    head["From"] = Address(settings.sender_name, addr_spec=settings.sender_address)
    head["Subject"] = subject
    head["List-Id"] = f"{settings.list_title} <digest.{settings.domain}>"
    if settings.site_url.startswith("https://"):
        head["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"  # RFC 8058
    head["MIME-Version"] = "1.0"
    head["Content-Type"] = f'multipart/alternative; boundary="{boundary}"'
    raw = head.as_bytes()
    return raw[: raw.index(b"\r\n\r\n") + 2]


def _qp_chunks(subtype: str, text: str) -> tuple[bytes, ...]:
    """A MIME part, quoted-printable, cut where the unsubscribe URL goes (encoded once)."""
    data = text.replace("\r\n", "\n").replace("\n", "\r\n")
    chunks = [binascii.b2a_qp(c.encode(), istext=True) for c in data.split(UNSUBSCRIBE_PLACEHOLDER)]
    chunks[-1] = chunks[-1].rstrip(b"\r\n") + b"\r\n"
    head = (
        f'Content-Type: text/{subtype}; charset="utf-8"\r\n'
        "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
    ).encode()
    return (head + chunks[0], *chunks[1:])


def _fill(chunks: tuple[bytes, ...], url: str) -> bytes:
    # Soft line breaks ("=" CRLF) around the URL keep every line within QP's 76 characters
    # and decode to nothing, so the URL joins its neighbours exactly (RFC 2045 6.7).
    return (b"=\r\n" + binascii.b2a_qp(url.encode(), istext=True) + b"=\r\n").join(chunks)


def build_message(
    bodies: Bodies,
    *,
    recipient: str,
    token: str,
    settings: EmailSettings,
    now: datetime,
    msgid: str,
) -> bytes:
    """One subscriber's message (CRLF wire form): multipart/alternative, text then HTML.

    Shared headers come folded from :func:`render_bodies`; the per-subscriber ones are built
    here from values restricted to safe ASCII (a validated address, hex ids, checked URLs).
    """
    if not _MSGID.match(msgid):
        raise ValueError(f"bad Message-ID {msgid!r}")
    https, mailto = unsubscribe_urls(settings, token)
    targets = [f"<{https}>"] if https else []
    unsubscribe = ",\r\n ".join([*targets, f"<{mailto}>"])  # folded like the email package
    own = (
        f"To: {normalize_email(recipient)[0]}\r\n"
        f"Date: {format_datetime(now)}\r\n"
        f"Message-ID: {msgid}\r\n"
        f"List-Unsubscribe: {unsubscribe}\r\n"
    ).encode("ascii")
    url = https or mailto
    dash = f"--{bodies.boundary}".encode()
    return b"".join(
        (
            own,
            bodies.head,
            b"\r\n",
            dash + b"\r\n",
            _fill(bodies.text_qp, url),
            dash + b"\r\n",
            _fill(bodies.html_qp, url),
            dash + b"--\r\n",
        )
    )
