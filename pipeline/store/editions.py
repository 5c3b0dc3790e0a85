"""Editions: the papers of one listing date (new and recurring, with topics), as the web
archive shows them. I/O edge: a database ``Session``; returns records.

Email editions are frozen instead (:mod:`pipeline.store.frozen_editions`): which editions are
due is recomputed from the store on every run (settled, not frozen yet), so a run that dies
between storing pages and planning emails leaves nothing to remember (the marks this module
kept in ``meta`` until revision 0004 are gone).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import date

from sqlalchemy import distinct, func
from sqlmodel import Session, col, select

from pipeline.records import Edition, StoredPaper
from pipeline.store.paper_meta import rank_by_votes, with_metadata
from pipeline.store.papers import paper_record
from pipeline.store.tables import Appearance, Digest, OutboxMessage, Paper
from pipeline.store.topic_papers import topics_of
from pipeline.topics import Topic


def select_edition(*, session: Session, day: date, topics: Sequence[Topic]) -> Edition:
    """Papers listed on ``day``, by upvotes, best rank then key, with their stored topics (in
    the order of ``topics``), community values and history up to ``day``."""
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
    order = [t.slug for t in topics]
    stored = topics_of(session=session, keys=[paper.key for paper, _ in rows], order=order)
    for paper, _rank in rows:
        record = paper_record(paper, times_seen=int(seen_until.get(paper.id, 1)))
        record = dataclasses.replace(record, topics=stored.get(paper.key, ()))
        (new if paper.first_seen >= day else recurring).append(record)
    # ranked by the community: most upvoted first, then page rank (issue 13)
    new, recurring = (with_metadata(session=session, papers=papers) for papers in (new, recurring))
    return Edition(day=day, new=rank_by_votes(new), recurring=rank_by_votes(recurring))


def edition_known(*, session: Session, day: date) -> bool:
    """True when a page lists ``day`` or outbox rows exist for it (mail planned or sent)."""
    listed = session.exec(select(col(Digest.id)).where(col(Digest.listing_date) == day)).first()
    if listed is not None:
        return True
    planned = select(col(OutboxMessage.id)).where(col(OutboxMessage.edition) == day)
    return session.exec(planned).first() is not None
