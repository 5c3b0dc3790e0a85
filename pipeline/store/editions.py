"""Editions: the papers listed on one listing date, split into new and recurring, with topics.

I/O edge: a database ``Session`` (read-only queries); returns frozen records.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import distinct, func
from sqlmodel import Session, col, select

from pipeline.records import StoredPaper
from pipeline.store.papers import paper_record
from pipeline.store.tables import Appearance, Paper
from pipeline.topics import Topic, assign_topics


@dataclass(frozen=True, slots=True)
class Edition:
    """One listing date's papers: first seen that day (new) and seen before (recurring)."""

    day: date
    new: tuple[StoredPaper, ...]
    recurring: tuple[StoredPaper, ...]

    def for_topics(self, slugs: Sequence[str]) -> Edition:
        """The papers of any of ``slugs`` (each paper once, whatever its number of topics)."""
        wanted = set(slugs)
        return Edition(
            day=self.day,
            new=tuple(p for p in self.new if wanted & set(p.topics)),
            recurring=tuple(p for p in self.recurring if wanted & set(p.topics)),
        )

    @property
    def empty(self) -> bool:
        """True when the edition lists no paper."""
        return not self.new and not self.recurring


def select_edition(*, session: Session, day: date, topics: Sequence[Topic]) -> Edition:
    """Papers listed on ``day``, by best rank then key, with topics and history up to ``day``."""
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
    return Edition(day=day, new=tuple(new), recurring=tuple(recurring))
