"""From stored papers to feed records: GUIDs, dates, links, summaries.

Pure; no I/O. Everything here derives from stored data (paper key, first/last seen, rank on
the first day) and from the tagging entity frozen in the store at init, never from the run time
or from ``site_url``, so a paper keeps its GUID and dates forever (docs/reliability.md §0.8, 1.4).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import quote, urlsplit

from pipeline.config import join_url
from pipeline.identity import clean_text
from pipeline.records import FeedEntry, FeedInput, StoredPaper

ALL_SLUG = "all"
# Entries of one listing date get distinct instants (W3C validator: DuplicateUpdated): the
# first-seen day at 00:00 UTC plus (RANK_SPAN - rank) seconds, so rank 1 is the newest.
RANK_SPAN = 3600
# Characters a tag: URI may carry unescaped in its specific part (RFC 4151 / RFC 3986 pchar).
_TAG_SAFE = ":/.-_~@!$&'()*+,;="

RankedPaper = tuple[StoredPaper, int]  # a paper and its best rank on its first-seen day
# Bidi embedding, override and isolate controls: "rtl \u202egnp.exe" shows as "rtl exe.png" in a
# reader (issue 15.11); emails and web pages drop them too (pipeline.mail.headers.plain_text).
_BIDI = dict.fromkeys([*range(0x202A, 0x202F), *range(0x2066, 0x206A)])


def feed_text(value: str) -> str:
    """Plain text for a feed: controls and bidi overrides out, whitespace folded."""
    return clean_text(value.translate(_BIDI))


def tag_uri(tagging_entity: str, specific: str) -> str:
    """``tag:<authority>,<date>:<specific>`` with the specific part percent-encoded."""
    return f"tag:{tagging_entity}:{quote(specific, safe=_TAG_SAFE)}"


def day_start(day: date) -> datetime:
    """00:00 UTC of ``day`` (aware)."""
    return datetime.combine(day, time(0), tzinfo=UTC)


def entry_instant(first_seen: date, rank: int) -> datetime:
    """The first-seen instant of a paper: its listing day plus a rank-based offset."""
    return day_start(first_seen) + timedelta(seconds=RANK_SPAN - min(max(rank, 1), RANK_SPAN - 1))


def is_web_url(url: str) -> bool:
    """True for an absolute http(s) URL with a host and without whitespace or controls
    (anything else never reaches an href)."""
    if not url.isprintable() or any(ch.isspace() for ch in url):
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _counts(paper: StoredPaper) -> str:
    if paper.upvotes is None:
        return ""
    text = f"▲ {paper.upvotes} upvote{'' if paper.upvotes == 1 else 's'}"
    if paper.comments:
        text += f" · {paper.comments} comment{'' if paper.comments == 1 else 's'}"
    return f"<p>{text}</p>"


def _links(paper: StoredPaper) -> str:
    esc = html.escape
    anchors = []
    for label, url in paper.labelled_links:
        if not is_web_url(url):
            continue
        stars = paper.github_stars if label == "Code" and url == paper.github_repo else None
        anchors.append(
            f'<a href="{esc(url)}">{label}</a>' + (f" (★ {stars})" if stars is not None else "")
        )
    return f"<p>{' · '.join(anchors)}</p>" if anchors else ""


def summary_html(paper: StoredPaper) -> str:
    """The item description: TL;DR, the rest of the abstract, authors, the community's counts,
    labelled links (Hugging Face, arXiv, PDF, code, project page) and appearance history,
    every value escaped (the same block as the email's, docs/reliability.md §6.1)."""
    esc = html.escape
    parts = []
    if paper.tldr:
        parts.append(f"<p><strong>TL;DR:</strong> {esc(feed_text(paper.tldr))}</p>")
    if paper.abstract_rest:
        parts.append(f"<p>{esc(feed_text(paper.abstract_rest))}</p>")
    if paper.authors:
        parts.append(f"<p>Authors: {esc(', '.join(feed_text(a) for a in paper.authors))}</p>")
    parts += [part for part in (_counts(paper), _links(paper)) if part]
    days = "day" if paper.times_seen == 1 else "days"
    parts.append(
        f"<p>First seen {paper.first_seen.isoformat()}; listed on {paper.times_seen} {days}, "
        f"last on {paper.last_seen.isoformat()}.</p>"
    )
    return "\n".join(parts)


def feed_entry(paper: StoredPaper, rank: int, *, tagging_entity: str) -> FeedEntry:
    """One feed item for a paper; its GUID comes from the paper key only."""
    return FeedEntry(
        guid=tag_uri(tagging_entity, f"paper/{paper.key}"),
        title=feed_text(paper.title) or paper.key,
        link=paper.url,
        summary_html=summary_html(paper),
        published=entry_instant(paper.first_seen, rank),
    )


DatedEntry = tuple[FeedEntry, date]  # an entry and its paper's last-seen day


def build_feed(
    *,
    slug: str,
    title: str,
    description: str,
    author: str,
    papers: Sequence[RankedPaper],
    tagging_entity: str,
    site_url: str,  # ends in '/' (Config.site_url)
    empty_updated: datetime,
) -> FeedInput:
    """The feed record of one topic from its papers (see :func:`assemble_feed`)."""
    entries = [(feed_entry(p, r, tagging_entity=tagging_entity), p.last_seen) for p, r in papers]
    return assemble_feed(
        slug=slug, title=title, description=description, author=author, entries=entries,
        tagging_entity=tagging_entity, site_url=site_url, empty_updated=empty_updated,
    )  # fmt: skip


def assemble_feed(
    *,
    slug: str,
    title: str,
    description: str,
    author: str,
    entries: Sequence[DatedEntry],
    tagging_entity: str,
    site_url: str,  # ends in '/' (Config.site_url)
    empty_updated: datetime,
) -> FeedInput:
    """The feed record of one topic from its entries; ``empty_updated`` dates a feed with none.

    Entries are ordered newest first-seen instant first, then by GUID. The feed's updated
    time is the latest instant its content changed: a new paper (its first-seen instant) or
    a recurring one (its last-seen day, which changes its summary). Never the run time.
    """
    ordered = sorted((e for e, _ in entries), key=lambda e: (-e.published.timestamp(), e.guid))
    changed = [e.published for e in ordered] + [day_start(seen) for _, seen in entries]
    return FeedInput(
        slug=slug,
        feed_id=tag_uri(tagging_entity, f"feed/{slug}"),
        title=title,
        description=description or title,
        site_url=site_url,
        rss_url=join_url(site_url, f"feeds/{slug}.xml"),
        atom_url=join_url(site_url, f"feeds/{slug}.atom"),
        author=author,
        updated=max(changed, default=empty_updated),
        entries=tuple(ordered),
    )
