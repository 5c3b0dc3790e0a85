"""Structural checks of feed files (docs/reliability.md F2), shared by the feed tests."""

from __future__ import annotations

import re
from email.utils import parsedate_to_datetime

import feedparser
from lxml import etree

ATOM = "{http://www.w3.org/2005/Atom}"
RFC822 = re.compile(r"^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} \+0000$")
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$")


def _absolute(url: str | None) -> bool:
    return bool(url) and re.match(r"^https?://[^/\s]+", url or "") is not None


def check_rss(data: bytes) -> list[tuple[str, str]]:
    """Assert F2 on an RSS document; return (guid, pubDate) of each item, in order."""
    assert data.startswith(b"<?xml"), "XML declaration missing"
    root = etree.fromstring(data)
    assert root.tag == "rss" and root.get("version") == "2.0"
    channel = root.find("channel")
    for name in ("title", "link", "description"):
        assert (channel.findtext(name) or "").strip(), f"channel {name} missing"
    link = channel.findtext("link")
    self_link = channel.find(f"{ATOM}link[@rel='self']")
    assert self_link is not None and _absolute(self_link.get("href"))
    assert _absolute(link) and link != self_link.get("href"), "channel link is the feed URL"
    assert RFC822.match(channel.findtext("lastBuildDate"))
    items = []
    for item in channel.findall("item"):
        guid = item.find("guid")
        assert guid is not None and guid.get("isPermaLink") == "false"
        assert guid.text.startswith("tag:")
        assert (item.findtext("title") or "").strip()
        assert _absolute(item.findtext("link"))
        pub = item.findtext("pubDate")
        assert RFC822.match(pub), pub
        assert parsedate_to_datetime(pub).tzinfo is not None
        items.append((guid.text, pub))
    guids = [g for g, _ in items]
    assert len(set(guids)) == len(guids), "a guid appears twice"
    return items


def check_atom(data: bytes) -> list[tuple[str, str]]:
    """Assert F2 on an Atom document; return (id, published) of each entry, in order."""
    assert data.startswith(b"<?xml")
    root = etree.fromstring(data)
    assert root.tag == f"{ATOM}feed"
    for name in ("id", "title", "updated"):
        assert len(root.findall(f"{ATOM}{name}")) == 1, f"feed {name}"
    assert RFC3339.match(root.findtext(f"{ATOM}updated"))
    assert root.find(f"{ATOM}author/{ATOM}name") is not None
    assert root.find(f"{ATOM}link[@rel='self']") is not None
    for link in root.iter(f"{ATOM}link"):
        assert _absolute(link.get("href")), link.get("href")
    entries = []
    for entry in root.findall(f"{ATOM}entry"):
        for name in ("id", "title", "updated"):
            assert len(entry.findall(f"{ATOM}{name}")) == 1, f"entry {name}"
        assert RFC3339.match(entry.findtext(f"{ATOM}updated"))
        links = entry.findall(f"{ATOM}link")
        assert [x.get("rel", "alternate") for x in links] == ["alternate"]
        summary = entry.find(f"{ATOM}summary")
        assert summary is not None and summary.get("type") == "html"
        assert entry.find(f"{ATOM}content") is None
        entries.append((entry.findtext(f"{ATOM}id"), entry.findtext(f"{ATOM}published")))
    ids = [i for i, _ in entries]
    assert len(set(ids)) == len(ids), "an id appears twice"
    updated = [e.findtext(f"{ATOM}updated") for e in root.findall(f"{ATOM}entry")]
    assert len(set(updated)) == len(updated), "DuplicateUpdated"
    return entries


def parse_clean(data: bytes) -> feedparser.FeedParserDict:
    """feedparser's view of a feed, asserting it is not bozo."""
    parsed = feedparser.parse(data)
    assert not parsed.bozo, parsed.get("bozo_exception")
    return parsed


def check_feed_file(data: bytes, *, atom: bool) -> list[tuple[str, str]]:
    """feedparser (no bozo) plus the lxml structural checks."""
    parse_clean(data)
    return check_atom(data) if atom else check_rss(data)
