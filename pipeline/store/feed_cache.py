"""Feed items kept between renders: what the feeds stage built for a paper, read back instead
of rebuilt. I/O edge: a database ``Session``.

Building an item (escaping the abstract, authors and links into its summary) costs more per
paper than reading it back (docs/benchmarks.md, issue 12), and a paper's item changes only when
the paper does. Validity: a row holds the ``version`` it was built under (the rendering code and
the GUID tagging entity, :mod:`pipeline.feeds.publish`), and every change of a paper or of its
appearances marks it pending (triggers), which deletes its row in the transaction that assigns
it (:mod:`pipeline.store.assignments`); the feeds stage assigns before it reads. A row is only
written for a paper not pending at that moment, so an item built from data that changed while
it was built is never kept.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date

from sqlalchemy import delete, select
from sqlmodel import Session, col

from pipeline.records import FeedEntry
from pipeline.store.engine import insert_for
from pipeline.store.papers import CHUNK
from pipeline.store.tables import FeedEntryCache, TopicPending

CachedEntry = tuple[FeedEntry, date]  # an item and its paper's last-seen day


def cached_entries(*, session: Session, ids: Iterable[int], version: str) -> dict[int, CachedEntry]:
    """The kept items of these papers built under ``version``, by paper id."""
    table = FeedEntryCache
    columns = [col(table.paper_id), col(table.guid), col(table.title), col(table.link),
               col(table.summary_html), col(table.published), col(table.last_seen)]  # fmt: skip
    found: dict[int, CachedEntry] = {}
    wanted = sorted(ids)
    for start in range(0, len(wanted), CHUNK):
        rows = session.execute(
            select(*columns).where(
                col(table.paper_id).in_(wanted[start : start + CHUNK]),
                col(table.version) == version,
            )
        )
        for paper_id, guid, title, link, summary, published, last_seen in rows:
            found[paper_id] = (FeedEntry(guid, title, link, summary, published), last_seen)
    return found


def keep_entries(*, session: Session, entries: Mapping[int, CachedEntry], version: str) -> int:
    """Keep these items (by paper id) for later renders, except for papers pending now;
    returns how many were kept."""
    wanted = sorted(entries)
    pending: set[int] = set()
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start : start + CHUNK]
        query = select(col(TopicPending.paper_id)).where(col(TopicPending.paper_id).in_(chunk))
        pending.update(session.execute(query).scalars())
    rows = [
        {
            "paper_id": paper_id,
            "version": version,
            "guid": entry.guid,
            "title": entry.title,
            "link": entry.link,
            "summary_html": entry.summary_html,
            "published": entry.published,
            "last_seen": seen,
        }
        for paper_id, (entry, seen) in entries.items()
        if paper_id not in pending
    ]
    stmt = insert_for(session, FeedEntryCache)
    stmt = stmt.on_conflict_do_update(
        index_elements=["paper_id"],
        set_={name: getattr(stmt.excluded, name) for name in (
            "version", "guid", "title", "link", "summary_html", "published", "last_seen")},
    )  # fmt: skip
    for start in range(0, len(rows), CHUNK):
        session.execute(stmt, rows[start : start + CHUNK])
    return len(rows)


def forget_entries(*, session: Session, ids: Iterable[int]) -> None:
    """Drop the kept items of these papers (they changed)."""
    wanted = sorted(ids)
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start : start + CHUNK]
        session.execute(delete(FeedEntryCache).where(col(FeedEntryCache.paper_id).in_(chunk)))


def prune_entries(*, session: Session, keep: Iterable[int], version: str) -> None:
    """Drop the items of papers no feed shows any more, and those of another version."""
    shown = set(keep)
    rows = session.execute(select(col(FeedEntryCache.paper_id), col(FeedEntryCache.version)))
    gone = [paper_id for paper_id, found in rows if paper_id not in shown or found != version]
    forget_entries(session=session, ids=gone)
