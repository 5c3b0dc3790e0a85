"""Read-only queries behind the archive pages. I/O edge: a database ``Session``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import case, distinct, func
from sqlmodel import Session, col, select

from pipeline.records import StoredPaper
from pipeline.store.tables import Appearance, Digest, Paper
from pipeline.store.topic_papers import with_topics
from pipeline.topics import Topic

SEARCH_LIMIT = 50  # papers per search result page


@dataclass(frozen=True, slots=True)
class EditionSummary:
    """One listing date and how many papers it listed."""

    day: date
    papers: int
    new: int


def list_editions(*, session: Session, limit: int = 400) -> list[EditionSummary]:
    """Listing dates, newest first, with their paper counts."""
    is_new = case((col(Paper.first_seen) == col(Appearance.listing_date), col(Paper.id)))
    query = (
        select(
            col(Appearance.listing_date),
            func.count(distinct(col(Appearance.paper_id))),
            func.count(distinct(is_new)),
        )
        .join(Paper, col(Paper.id) == col(Appearance.paper_id))
        .group_by(col(Appearance.listing_date))
        .order_by(col(Appearance.listing_date).desc())
        .limit(limit)
    )
    return [EditionSummary(day, int(n), int(new)) for day, n, new in session.execute(query)]


def _like_pattern(text: str) -> str:
    escaped = text.casefold().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search_titles(
    *, session: Session, query: str, topics: Sequence[Topic], limit: int = SEARCH_LIMIT
) -> list[StoredPaper]:
    """Papers whose title contains ``query`` (any case; ``%``/``_`` literal), newest first,
    labelled with their stored topics."""
    rows = session.exec(
        select(Paper)
        .where(func.lower(col(Paper.title)).like(_like_pattern(query), escape="\\"))
        .order_by(col(Paper.first_seen).desc(), col(Paper.key))
        .limit(limit)
    )
    found = [
        StoredPaper(
            key=p.key,
            title=p.title,
            abstract=p.abstract,
            arxiv_id=p.arxiv_id,
            links=tuple(p.links),
            first_seen=p.first_seen,
            last_seen=p.last_seen,
            times_seen=p.times_seen,
            authors=tuple(p.authors),
            keywords=tuple(p.keywords),
        )
        for p in rows
    ]
    return with_topics(session=session, papers=found, order=[t.slug for t in topics])


def store_version(*, session: Session) -> tuple[object, ...]:
    """A cheap value that changes whenever an ingest changes what pages show."""
    row = session.execute(
        select(func.max(col(Digest.ingested_at)), func.count(col(Digest.id)))
    ).one()
    return tuple(row)
