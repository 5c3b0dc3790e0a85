"""Reading stored topic assignments (:mod:`pipeline.store.assignments`): a topic's newest
papers, the topics of given papers, per-topic counts. I/O edge: a database ``Session``.

Every read is an index range: a topic's newest papers walk ``ix_paper_topic_newest`` (topic,
first_seen DESC, key) and stop at the limit, whatever the store's size or the topic's rarity; the
topics of N papers are N primary-key look-ups. Labels keep the configured order of topics and
drop slugs that are no longer configured.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session, col

from pipeline.records import StoredPaper
from pipeline.store.papers import CHUNK, RECORD_COLUMNS, record_from_row
from pipeline.store.tables import Appearance, Paper, PaperTopic, TopicPending

RankedPaper = tuple[StoredPaper, int]  # a paper and its best rank on its first-seen day


def _first_rank() -> Any:
    return (
        select(func.min(col(Appearance.rank)))
        .where(
            col(Appearance.paper_id) == col(Paper.id),
            col(Appearance.listing_date) == col(Paper.first_seen),
        )
        .scalar_subquery()
    )


def _ranked(rows: Iterable[Any]) -> list[RankedPaper]:
    return [(record_from_row(r), int(r[-1]) if r[-1] is not None else 1) for r in rows]


_COLUMNS: list[Any] = [col(getattr(Paper, name)) for name in RECORD_COLUMNS]


def newest_papers(*, session: Session, limit: int) -> list[RankedPaper]:
    """The ``limit`` newest papers (first seen, then key) with their first-day rank."""
    rows = session.execute(
        select(*_COLUMNS, _first_rank())
        .order_by(col(Paper.first_seen).desc(), col(Paper.key))
        .limit(limit)
    )
    return _ranked(rows)


def topic_papers(*, session: Session, slug: str, limit: int) -> list[RankedPaper]:
    """The ``limit`` newest papers of topic ``slug`` (first seen, then key), with their rank."""
    ids = {slug: topic_ids(session=session, slug=slug, limit=limit)}
    return feed_papers(session=session, ids=ids)[slug]


def topic_ids(*, session: Session, slug: str, limit: int) -> list[int]:
    """The ids of the ``limit`` newest papers of topic ``slug``: one range of the covering
    index ``ix_paper_topic_newest``."""
    query = (
        select(col(PaperTopic.paper_id))
        .where(col(PaperTopic.topic) == slug)
        .order_by(col(PaperTopic.first_seen).desc(), col(PaperTopic.paper_key))
        .limit(limit)
    )
    return list(session.execute(query).scalars())


def newest_ids(*, session: Session, limit: int) -> list[int]:
    """The ids of the ``limit`` newest papers: one range of ``ix_paper_newest``."""
    query = select(col(Paper.id)).order_by(col(Paper.first_seen).desc(), col(Paper.key))
    return list(session.execute(query.limit(limit)).scalars())


def feed_papers(
    *, session: Session, ids: Mapping[str, Sequence[int]], keywords: bool = True
) -> dict[str, list[RankedPaper]]:
    """The papers of each list of ids (by feed), each distinct paper read once (a paper is in
    ``all`` and in each of its topics). ``keywords=False`` leaves them out (feeds show none)."""
    found = papers_by_id(
        session=session, ids={i for some in ids.values() for i in some}, keywords=keywords
    )
    return {name: [found[i] for i in wanted if i in found] for name, wanted in ids.items()}


def papers_by_id(
    *, session: Session, ids: Iterable[int], keywords: bool = True
) -> dict[int, RankedPaper]:
    """Papers (with their first-day rank) by id."""
    names = RECORD_COLUMNS if keywords else RECORD_COLUMNS[:-1]
    columns = [col(Paper.id), *(col(getattr(Paper, name)) for name in names), _first_rank()]
    found: dict[int, RankedPaper] = {}
    wanted = sorted(ids)
    for start in range(0, len(wanted), CHUNK):
        rows = session.execute(
            select(*columns).where(col(Paper.id).in_(wanted[start : start + CHUNK]))
        )
        for row in rows:
            values = (*row[1 : len(names) + 1], *([] if keywords else [[]]))
            found[row[0]] = (record_from_row(values), int(row[-1]) if row[-1] is not None else 1)
    return found


def topics_of(
    *, session: Session, keys: Iterable[str], order: Sequence[str]
) -> dict[str, tuple[str, ...]]:
    """The stored topics of the papers ``keys``, each in the order of ``order`` (the
    configured slugs; others are left out). Papers without topics are absent."""
    rank = {slug: n for n, slug in enumerate(order)}
    found: dict[str, list[str]] = {}
    wanted = sorted(set(keys))
    for start in range(0, len(wanted), CHUNK):
        rows = session.execute(
            select(col(Paper.key), col(PaperTopic.topic))
            .join(PaperTopic, col(PaperTopic.paper_id) == col(Paper.id))
            .where(col(Paper.key).in_(wanted[start : start + CHUNK]))
        )
        for key, slug in rows:
            if slug in rank:
                found.setdefault(key, []).append(slug)
    return {key: tuple(sorted(slugs, key=rank.__getitem__)) for key, slugs in found.items()}


def with_topics(
    *, session: Session, papers: Sequence[StoredPaper], order: Sequence[str]
) -> list[StoredPaper]:
    """The papers with their stored topics (configured order)."""
    found = topics_of(session=session, keys=[p.key for p in papers], order=order)
    return [dataclasses.replace(p, topics=found.get(p.key, ())) for p in papers]


@dataclass(frozen=True)
class TopicCounts:
    """How many papers each topic holds, and how many no topic takes, since a day."""

    since: date | None  # None: every paper
    papers: int
    by_topic: dict[str, int]
    untaken: int  # papers in no topic
    pending: int  # papers not assigned yet (a run assigns them)
    stale: tuple[str, ...] = ()  # topics whose rules changed since they were assigned


def topic_counts(*, session: Session, since: date | None = None) -> TopicCounts:
    """Per-topic paper counts over papers first seen on or after ``since`` (all if None)."""
    by_topic = select(col(PaperTopic.topic), func.count()).group_by(col(PaperTopic.topic))
    papers = select(func.count()).select_from(Paper)
    taken = select(col(PaperTopic.paper_id)).where(col(PaperTopic.paper_id) == col(Paper.id))
    untaken = select(func.count()).select_from(Paper).where(~taken.exists())
    if since is not None:
        by_topic = by_topic.where(col(PaperTopic.first_seen) >= since)
        papers = papers.where(col(Paper.first_seen) >= since)
        untaken = untaken.where(col(Paper.first_seen) >= since)
    pending = select(func.count()).select_from(TopicPending)
    return TopicCounts(
        since=since,
        papers=int(session.execute(papers).scalar_one()),
        by_topic={slug: int(n) for slug, n in session.execute(by_topic)},
        untaken=int(session.execute(untaken).scalar_one()),
        pending=int(session.execute(pending).scalar_one()),
    )


def assignment_of(*, session: Session, key: str) -> tuple[set[str], bool]:
    """The stored topics of paper ``key`` and whether it is pending (not assigned yet)."""
    paper_id = session.execute(select(col(Paper.id)).where(col(Paper.key) == key)).scalar_one()
    slugs = session.execute(
        select(col(PaperTopic.topic)).where(col(PaperTopic.paper_id) == paper_id)
    )
    pending = session.execute(
        select(func.count()).select_from(TopicPending).where(col(TopicPending.paper_id) == paper_id)
    ).scalar_one()
    return set(slugs.scalars()), bool(pending)
