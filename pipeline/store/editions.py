"""Editions: the papers of one listing date (new and recurring, with topics), and the marks of
editions waiting for their email rows. I/O edge: a database ``Session``; returns records.

Why the marks: ``paperboy run`` emails the editions that got new content. Knowing them only in
memory loses them when the run dies (kill -9, a failpoint) or stops early (SMTP 421, a dropped
connection) after the pages were committed but before the outbox rows were planned: the rerun
finds the pages already stored, sees no new content and would never email those editions (found
by ``scripts/fault_harness.py``). So a run marks an edition in the same transaction that stores
its page, and clears the mark only once the edition's outbox rows are committed; the next run
picks up every edition still marked. One ``meta`` row per edition: no read-modify-write.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import date

from sqlalchemy import delete, distinct, func
from sqlmodel import Session, col, select

from pipeline.records import Edition, PageReport, StoredPaper
from pipeline.store.meta import ensure_meta
from pipeline.store.paper_meta import rank_by_votes, with_metadata
from pipeline.store.papers import paper_record
from pipeline.store.tables import Appearance, Digest, Meta, OutboxMessage, Paper
from pipeline.topics import Topic, assign_topics


def select_edition(*, session: Session, day: date, topics: Sequence[Topic]) -> Edition:
    """Papers listed on ``day``, by upvotes, best rank then key, with topics, community values
    and history up to ``day``."""
    best_rank = func.min(col(Appearance.rank)).label("best_rank")
    ranked = (
        select(col(Appearance.paper_id), best_rank)
        .where(col(Appearance.listing_date) == day)
        .group_by(col(Appearance.paper_id))
        .subquery()
    )
    rows = session.exec(
        select(Paper, ranked.c.best_rank)
        .join(ranked, ranked.c.paper_id == col(Paper.id))
        .order_by(ranked.c.best_rank, col(Paper.key))
    ).all()
    listed = select(col(Appearance.paper_id)).where(col(Appearance.listing_date) == day)
    seen_until = dict(
        session.execute(
            select(col(Appearance.paper_id), func.count(distinct(col(Appearance.listing_date))))
            .where(col(Appearance.paper_id).in_(listed), col(Appearance.listing_date) <= day)
            .group_by(col(Appearance.paper_id))
        ).all()
    )
    new: list[StoredPaper] = []
    recurring: list[StoredPaper] = []
    for paper, _rank in rows:
        record = paper_record(paper, times_seen=int(seen_until.get(paper.id, 1)))
        slugs = assign_topics(
            topics, title=paper.title, abstract=paper.abstract, keywords=paper.keywords
        )
        record = dataclasses.replace(record, topics=slugs)
        (new if paper.first_seen >= day else recurring).append(record)
    # ranked by the community: most upvoted first, then page rank (issue 13)
    new, recurring = (with_metadata(session=session, papers=papers) for papers in (new, recurring))
    return Edition(day=day, new=rank_by_votes(new), recurring=rank_by_votes(recurring))


PREFIX = "email_pending:"


def mark_edition(session: Session, report: PageReport) -> None:
    """Mark the page's edition for emailing (call inside the page's write transaction)."""
    if not report.unchanged:
        ensure_meta(session=session, key=f"{PREFIX}{report.listing_date.isoformat()}", value="1")


def pending_editions(*, session: Session) -> set[date]:
    """Editions marked and not yet planned."""
    keys = session.execute(select(col(Meta.key)).where(col(Meta.key).startswith(PREFIX)))
    return {date.fromisoformat(key.removeprefix(PREFIX)) for key in keys.scalars()}


def clear_edition(*, session: Session, day: date) -> None:
    """Forget the mark once the edition's outbox rows are committed."""
    session.execute(delete(Meta).where(col(Meta.key) == f"{PREFIX}{day.isoformat()}"))


def editions_in_flight(*, session: Session) -> set[date]:
    """Editions with rows left ``sending`` (a run died mid-send): their lease must be checked."""
    found = session.execute(
        select(col(OutboxMessage.edition)).where(col(OutboxMessage.state) == "sending").distinct()
    )
    return set(found.scalars())


def edition_known(*, session: Session, day: date) -> bool:
    """True when a page lists ``day`` or outbox rows exist for it (mail planned or sent)."""
    listed = session.exec(select(col(Digest.id)).where(col(Digest.listing_date) == day)).first()
    if listed is not None:
        return True
    planned = select(col(OutboxMessage.id)).where(col(OutboxMessage.edition) == day)
    return session.exec(planned).first() is not None
