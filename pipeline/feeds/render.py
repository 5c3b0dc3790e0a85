"""Render feed records as RSS 2.0, Atom and an OPML index. Pure; no I/O.

Output depends only on the :class:`~pipeline.records.FeedInput` given: no clock, no config, so
rendering the same input twice gives the same bytes. feedgen traps handled here
(docs/reliability.md §0.7, 1.3, appendix A.1): the RSS channel ``<link>`` is feedgen's *last* link,
so ``self`` is added first and ``alternate`` last; summaries go through ``summary(type='html')``
(``description()`` would put untyped HTML into Atom content); the feed has an author (Atom
entries need one); entries are appended in our order (``add_entry`` prepends by default);
``updated``/``lastBuildDate`` are explicit (they default to now); guids are not permalinks.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence

from feedgen.feed import FeedGenerator

from pipeline.errors import RenderError
from pipeline.identity import clean_text
from pipeline.records import FeedInput

GENERATOR = "paperboy"  # no version: an upgrade alone must not change every feed's bytes
RSS_TYPE = "application/rss+xml"
ATOM_TYPE = "application/atom+xml"


def _links(feed: FeedInput, *, self_url: str, self_type: str) -> list[dict[str, str]]:
    # self first, alternate last: the RSS channel <link> is feedgen's last link (see above)
    return [
        {"href": self_url, "rel": "self", "type": self_type},
        {"href": feed.site_url, "rel": "alternate"},
    ]


def _generator(feed: FeedInput, *, self_url: str, self_type: str) -> FeedGenerator:
    fg = FeedGenerator()
    fg.id(feed.feed_id)
    fg.title(clean_text(feed.title))
    fg.description(clean_text(feed.description))
    fg.author({"name": clean_text(feed.author) or GENERATOR})
    fg.link(_links(feed, self_url=self_url, self_type=self_type))
    fg.generator(GENERATOR)
    fg.language("en")
    fg.updated(feed.updated)
    fg.lastBuildDate(feed.updated)
    for item in feed.entries:
        fe = fg.add_entry(order="append")
        fe.id(item.guid)
        fe.guid(item.guid, permalink=False)
        fe.title(item.title)
        fe.link(href=item.link, rel="alternate")
        fe.summary(item.summary_html, type="html")
        fe.published(item.published)
        fe.updated(item.published)
    return fg


def render_feed(feed: FeedInput) -> tuple[bytes, bytes]:
    """RSS 2.0 and Atom bytes of one feed, from one generator: the entries are built once and
    only the ``self`` link changes between the two (the same bytes as :func:`render_rss` and
    :func:`render_atom`, in about half the time)."""
    fg = _generator(feed, self_url=feed.rss_url, self_type=RSS_TYPE)
    try:
        rss: bytes = fg.rss_str(pretty=True)
    except ValueError as exc:  # feedgen rejects text XML cannot carry
        raise RenderError(f"feeds/{feed.slug}.xml", str(exc)) from exc
    fg.link(_links(feed, self_url=feed.atom_url, self_type=ATOM_TYPE), replace=True)
    try:
        atom: bytes = fg.atom_str(pretty=True)
    except ValueError as exc:
        raise RenderError(f"feeds/{feed.slug}.atom", str(exc)) from exc
    return rss, atom


def render_rss(feed: FeedInput) -> bytes:
    """RSS 2.0 bytes (UTF-8, with XML declaration) of one feed."""
    try:
        data: bytes = _generator(feed, self_url=feed.rss_url, self_type=RSS_TYPE).rss_str(
            pretty=True
        )
    except ValueError as exc:  # feedgen rejects text XML cannot carry
        raise RenderError(f"feeds/{feed.slug}.xml", str(exc)) from exc
    return data


def render_atom(feed: FeedInput) -> bytes:
    """Atom (RFC 4287) bytes (UTF-8, with XML declaration) of one feed."""
    try:
        data: bytes = _generator(feed, self_url=feed.atom_url, self_type=ATOM_TYPE).atom_str(
            pretty=True
        )
    except ValueError as exc:
        raise RenderError(f"feeds/{feed.slug}.atom", str(exc)) from exc
    return data


def render_opml(feeds: Sequence[FeedInput], *, title: str) -> bytes:
    """An OPML 2.0 subscription list with one outline (the RSS feed) per feed, in order."""
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = clean_text(title)
    body = ET.SubElement(root, "body")
    for feed in feeds:
        ET.SubElement(
            body,
            "outline",
            type="rss",
            text=clean_text(feed.title),
            title=clean_text(feed.title),
            description=clean_text(feed.description),
            xmlUrl=feed.rss_url,
            htmlUrl=feed.site_url,
        )
    ET.indent(root)
    data: bytes = ET.tostring(root, encoding="UTF-8", xml_declaration=True)
    return data + b"\n"
