"""Frozen email editions: which listings each daily or weekly edition carries, fixed once.

I/O edge: a database ``Session``; returns records. :func:`freeze_edition` runs inside the
transaction that plans the edition's outbox rows (:mod:`pipeline.mail.plan` gives the
exactly-once argument); afterwards an edition's listings never change, so every message of it,
also one sent again hours later, lists the same papers.

A listing is a paper on one listing date. Each belongs to at most one edition per kind (a unique
constraint, not code): on time when its date lies within the edition's days, or **late** when
it reached a date whose edition was already frozen; late listings go into the next edition of
that kind frozen after they arrived.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, exists, func
from sqlmodel import Session, col, select

from pipeline.records import EditionRef, FrozenPaper
from pipeline.store.engine import insert_for
from pipeline.store.paper_meta import with_metadata
from pipeline.store.papers import paper_record
from pipeline.store.tables import Appearance, MailEdition, MailEditionPaper, Paper
from pipeline.store.topic_papers import topics_of
from pipeline.topics import Topic

_CHUNK = 500


def listing_days(*, session: Session, start: date, end: date) -> set[date]:
    """Listing dates from ``start`` to ``end`` (inclusive) with at least one paper."""
    query = (
        select(col(Appearance.listing_date))
        .where(col(Appearance.listing_date) >= start, col(Appearance.listing_date) <= end)
        .distinct()
    )
    return set(session.exec(query))


def frozen_refs(*, session: Session, since: date | None = None) -> set[EditionRef]:
    """Editions already frozen (those covering ``since`` or later when given)."""
    query = select(col(MailEdition.kind), col(MailEdition.day))
    if since is not None:
        query = query.where(col(MailEdition.last_day) >= since)
    return {EditionRef(kind, day) for kind, day in session.exec(query)}


def _listings(session: Session, *conditions: Any) -> list[tuple[int, date, int]]:
    """(paper id, listing date, best rank) of the appearances matching ``conditions``."""
    query = (
        select(
            col(Appearance.paper_id), col(Appearance.listing_date), func.min(col(Appearance.rank))
        )
        .where(*conditions)
        .group_by(col(Appearance.paper_id), col(Appearance.listing_date))
    )
    return [(int(p), d, int(r)) for p, d, r in session.execute(query).all()]


def _late_listings(
    session: Session, ref: EditionRef, since: date | None
) -> list[tuple[int, date, int]]:
    """Listings of dates before ``ref`` (and from ``since`` on) that an edition of its kind
    covers, in none of them."""
    covered = exists().where(
        col(MailEdition.kind) == ref.kind,
        col(MailEdition.day) <= col(Appearance.listing_date),
        col(MailEdition.last_day) >= col(Appearance.listing_date),
    )
    recent = col(Appearance.listing_date) >= (since or date.min)
    carried = exists().where(
        col(MailEditionPaper.kind) == ref.kind,
        col(MailEditionPaper.listing_date) == col(Appearance.listing_date),
        col(MailEditionPaper.paper_id) == col(Appearance.paper_id),
    )
    return _listings(session, col(Appearance.listing_date) < ref.day, recent, covered, ~carried)


def freeze_edition(
    *,
    session: Session,
    ref: EditionRef,
    topics: Sequence[Topic],
    now: datetime,
    late_since: date | None = None,
) -> bool:
    """Freeze ``ref`` unless it is (or lists nothing): its listings now, plus the late ones
    (of dates from ``late_since`` on: the catch-up window); True if this call froze it.

    Concurrent callers (two ``paperboy emails --worker``) are safe: the edition row is inserted
    with ON CONFLICT DO NOTHING, so one transaction freezes and the other finds it frozen; a
    listing two editions reach for goes to whichever commits first (the unique constraint).
    """
    days = and_(
        col(Appearance.listing_date) >= ref.day, col(Appearance.listing_date) <= ref.last_day
    )
    main = _listings(session, days)
    if not main:  # nothing listed in its days: an edition to freeze later, if ever
        return False
    header = {"kind": ref.kind, "day": ref.day, "last_day": ref.last_day, "frozen_at": now}
    inserted = session.execute(
        insert_for(session, MailEdition)
        .values(**header)
        .on_conflict_do_nothing()
        .returning(col(MailEdition.id))
    ).first()
    if inserted is None:
        return False
    rows = [(p, d, r, False) for p, d, r in main]
    rows += [(p, d, r, True) for p, d, r in _late_listings(session, ref, late_since)]
    papers = _papers(session, sorted({p for p, _d, _r, _late in rows}))
    # the stored assignments (pipeline.store.assignments; the mail stage assigns first)
    order = [t.slug for t in topics]
    stored = topics_of(session=session, keys=[p.key for p in papers.values()], order=order)
    values = [
        {
            "edition_id": int(inserted[0]),
            "kind": ref.kind,
            "listing_date": day,
            "paper_id": paper_id,
            "rank": rank,
            "recurring": papers[paper_id].first_seen < day,
            "late": late,
            "topics": list(stored.get(papers[paper_id].key, ())),
        }
        for paper_id, day, rank, late in sorted(rows, key=lambda row: (row[1], row[2], row[0]))
    ]
    insert = insert_for(session, MailEditionPaper).on_conflict_do_nothing()
    for start in range(0, len(values), _CHUNK):
        session.execute(insert, values[start : start + _CHUNK])
    return True


def _papers(session: Session, ids: Sequence[int]) -> dict[int, Paper]:
    found: dict[int, Paper] = {}
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        found.update(
            {int(p.id or 0): p for p in session.exec(select(Paper).where(col(Paper.id).in_(chunk)))}
        )
    return found


def frozen_papers(*, session: Session, ref: EditionRef) -> list[FrozenPaper] | None:
    """The listings ``ref`` carries (date, rank, paper key order), or None if not frozen."""
    edition_id = session.exec(
        select(col(MailEdition.id)).where(
            col(MailEdition.kind) == ref.kind, col(MailEdition.day) == ref.day
        )
    ).first()
    if edition_id is None:
        return None
    rows = session.exec(
        select(MailEditionPaper, Paper)
        .join(Paper, col(Paper.id) == col(MailEditionPaper.paper_id))
        .where(col(MailEditionPaper.edition_id) == edition_id)
        .order_by(col(MailEditionPaper.listing_date), col(MailEditionPaper.rank), col(Paper.key))
    ).all()
    seen = _times_seen_until(session, [(row.paper_id, row.listing_date) for row, _paper in rows])
    records = [
        replace(
            paper_record(paper, times_seen=seen.get((row.paper_id, row.listing_date), 1)),
            topics=tuple(row.topics),
        )
        for row, paper in rows
    ]
    # the community's latest counts and texts (upvotes rank the sections, issue 13)
    records = with_metadata(session=session, papers=records)
    return [
        FrozenPaper(record, row.listing_date, row.rank, row.recurring, row.late)
        for (row, _paper), record in zip(rows, records, strict=True)
    ]


def _times_seen_until(
    session: Session, listings: Sequence[tuple[int, date]]
) -> dict[tuple[int, date], int]:
    """Distinct listing dates per paper up to each listing's date (the "seen N times" count)."""
    ids = sorted({paper_id for paper_id, _day in listings})
    dates: dict[int, list[date]] = {}
    for start in range(0, len(ids), _CHUNK):
        query = (
            select(col(Appearance.paper_id), col(Appearance.listing_date))
            .where(col(Appearance.paper_id).in_(ids[start : start + _CHUNK]))
            .distinct()
        )
        for paper_id, day in session.exec(query):
            dates.setdefault(int(paper_id), []).append(day)
    return {
        (paper_id, day): sum(1 for seen in dates.get(paper_id, ()) if seen <= day)
        for paper_id, day in listings
    }
