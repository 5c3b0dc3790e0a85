"""The pages the store holds, and taking a wrong one back out. I/O edge: a database ``Session``.

A page is one digest row: one source's listing of one date. :func:`remove_page` is the undo of
an ingest (issue 15.8: a future date, a wrong year, a page of headers only could not be removed).
It deletes the page's appearances and the digest, deletes the papers listed on no other page
(with their aliases), and recomputes first/last seen and times seen of the others from their
remaining appearances, so identity and history end as if the page had never been ingested and
every ``paperboy check`` invariant holds. What a paper learned from the page stays: its text
(the earliest text wins, so ``text_date`` is moved up to the new first-seen date), links, arXiv
id and aliases, and its key, which never changes (feed GUIDs derive from it).

Mail is history: an edition with messages sent, uncertain or in flight is refused unless
forced, and its outbox rows stay (so it is never mailed twice). When no other source lists the
date, its pending and retrying messages and its email mark are dropped. The page's stored
validators go too, or the next fetch of that URL would answer "304 unchanged".
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from typing import Any, TypeVar

from sqlalchemy import Engine, delete, distinct, func, update
from sqlmodel import Session, col, select

from pipeline.errors import ConfigError
from pipeline.records import PageRemoval, StoredPage
from pipeline.store.tables import (
    Appearance,
    Digest,
    FetchState,
    MailEditionPaper,
    OutboxMessage,
    Paper,
    PaperAlias,
    PaperMeta,
    PaperVotes,
)

MAILED_STATES = ("sent", "uncertain", "sending")  # the message went, or may have
OPEN_STATES = ("pending", "retry")  # not sent yet: cancelled with the edition
_CHUNK = 500
_T = TypeVar("_T")


def _chunks(items: Sequence[_T]) -> Iterator[Sequence[_T]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def _mailed(session: Session, day: date | None = None) -> dict[date, int]:
    query = (
        select(col(OutboxMessage.edition), func.count())
        .where(col(OutboxMessage.state).in_(MAILED_STATES))
        .group_by(col(OutboxMessage.edition))
    )
    if day is not None:
        query = query.where(col(OutboxMessage.edition) == day)
    return {edition: int(n) for edition, n in session.execute(query).all()}


def list_pages(*, session: Session, source: str | None = None) -> list[StoredPage]:
    """Every stored page, newest date first, with its paper count and mailed messages."""
    query = select(Digest).order_by(col(Digest.listing_date).desc(), col(Digest.source))
    if source is not None:
        query = query.where(col(Digest.source) == source)
    mailed = _mailed(session)
    return [
        StoredPage(
            source=row.source,
            listing_date=row.listing_date,
            papers=row.paper_count,
            origin=row.origin,
            ingested_at=row.ingested_at,
            mailed=mailed.get(row.listing_date, 0),
        )
        for row in session.exec(query)
    ]


def _history(session: Session, paper_ids: Sequence[int]) -> dict[int, tuple[Any, ...]]:
    found: dict[int, tuple[Any, ...]] = {}
    for ids in _chunks(paper_ids):
        query = select(
            col(Paper.id), col(Paper.first_seen), col(Paper.last_seen), col(Paper.times_seen)
        ).where(col(Paper.id).in_(ids))
        found.update({int(row[0]): tuple(row[1:]) for row in session.execute(query)})
    return found


def _refresh(session: Session, paper_ids: Sequence[int]) -> None:
    """First/last seen and times seen from the remaining appearances; text_date moved up."""
    mine = col(Appearance.paper_id) == col(Paper.id)
    first = select(func.min(col(Appearance.listing_date))).where(mine).scalar_subquery()
    last = select(func.max(col(Appearance.listing_date))).where(mine).scalar_subquery()
    times = select(func.count(distinct(col(Appearance.listing_date)))).where(mine).scalar_subquery()
    for ids in _chunks(paper_ids):
        session.execute(
            update(Paper)
            .where(col(Paper.id).in_(ids))
            .values(first_seen=first, last_seen=last, times_seen=times)
            .execution_options(synchronize_session=False)
        )
        # the earliest text wins (diff.prefer_text): a text dated before the paper's first
        # remaining listing would beat every later version for ever
        session.execute(
            update(Paper)
            .where(col(Paper.id).in_(ids), col(Paper.text_date) < col(Paper.first_seen))
            .values(text_date=col(Paper.first_seen))
            .execution_options(synchronize_session=False)
        )


def remove_page(*, session: Session, source: str, day: date, force: bool = False) -> PageRemoval:
    """Remove page ``(source, day)``; see the module docstring for what changes.

    Raises :class:`ConfigError` when there is no such page, or when its edition was mailed and
    ``force`` is false.
    """
    where = (col(Digest.source) == source) & (col(Digest.listing_date) == day)
    digest = session.exec(select(Digest).where(where)).first()
    if digest is None or digest.id is None:
        raise ConfigError(f"no page {source} {day} in the store; see `paperboy pages list`")
    mailed = _mailed(session, day).get(day, 0)
    if mailed and not force:
        raise ConfigError(
            f"{mailed} message(s) of edition {day} were sent (or may have been): removing page "
            f"{source} {day} cannot take them back; add --force to remove it anyway (the "
            "edition is never mailed again)"
        )
    listed = select(col(Appearance.paper_id)).where(col(Appearance.digest_id) == digest.id)
    paper_ids = sorted({int(paper_id) for paper_id in session.exec(listed)})
    before = _history(session, paper_ids)
    removed = session.execute(delete(Appearance).where(col(Appearance.digest_id) == digest.id))
    session.execute(delete(Digest).where(col(Digest.id) == digest.id))
    remaining: set[int] = set()
    for ids in _chunks(paper_ids):
        query = select(col(Appearance.paper_id)).where(col(Appearance.paper_id).in_(ids))
        remaining.update(int(paper_id) for paper_id in session.exec(query.distinct()))
    orphans = [paper_id for paper_id in paper_ids if paper_id not in remaining]
    listed_that_day = select(col(Appearance.paper_id)).where(col(Appearance.listing_date) == day)
    for ids in _chunks(paper_ids):  # frozen editions forget listings that no longer exist
        session.execute(
            delete(MailEditionPaper).where(
                col(MailEditionPaper.listing_date) == day,
                col(MailEditionPaper.paper_id).in_(ids),
                col(MailEditionPaper.paper_id).not_in(listed_that_day),
            )
        )
    for ids in _chunks(orphans):  # every table that points at paper, then the paper
        for table in (PaperAlias, PaperMeta, PaperVotes):
            session.execute(delete(table).where(col(table.paper_id).in_(ids)))
        session.execute(delete(Paper).where(col(Paper.id).in_(ids)))
    kept = sorted(remaining)
    _refresh(session, kept)
    after = _history(session, kept)
    other = session.exec(select(col(Digest.id)).where(col(Digest.listing_date) == day)).first()
    cancelled = 0
    if other is None:
        result = session.execute(
            delete(OutboxMessage).where(
                col(OutboxMessage.edition) == day, col(OutboxMessage.state).in_(OPEN_STATES)
            )
        )
        cancelled = int(result.rowcount)  # type: ignore[attr-defined]
    session.execute(delete(FetchState).where(col(FetchState.url) == digest.origin))
    return PageRemoval(
        source=source,
        listing_date=day,
        appearances=int(removed.rowcount),  # type: ignore[attr-defined]
        papers_deleted=len(orphans),
        papers_changed=sum(1 for paper_id in kept if before[paper_id] != after[paper_id]),
        mailed=mailed,
        edition_gone=other is None,
        cancelled=cancelled,
    )


@contextmanager
def undo_session(engine: Engine, *, dry_run: bool) -> Iterator[Session]:
    """A write transaction that commits, or for a dry run rolls back, at the end."""
    with Session(engine, expire_on_commit=False) as session:
        transaction = session.begin()
        try:
            yield session
        except BaseException:
            transaction.rollback()
            raise
        if dry_run:
            transaction.rollback()
        else:
            transaction.commit()
