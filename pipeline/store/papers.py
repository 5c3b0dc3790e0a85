"""Store operations: upsert a parsed page, query papers. I/O edge: a database ``Session``.

Every function takes a session (keyword-only) inside a transaction the caller opened with
:func:`~pipeline.store.engine.write_session` or :func:`~pipeline.store.engine.read_session`, and
returns records, never table rows. Writes are batched and look-ups go through indexes, so
ingesting a page costs the same with 10k or 1M papers stored. All updates are monotone (earliest
text wins, link sets grow, first/last seen recomputed from appearances), which makes the final
store independent of the order pages are ingested in and of ingesting a page twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime
from typing import Any

from sqlalchemy import Engine, func, or_
from sqlalchemy import select as select_columns
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlmodel import Session, col, select

from pipeline.diff import diff_papers
from pipeline.errors import StoreError
from pipeline.failpoints import failpoint
from pipeline.identity import arxiv_key, title_key
from pipeline.records import Page, PageReport, StoredPaper
from pipeline.store.engine import write_session
from pipeline.store.page_writer import CHUNK as CHUNK  # shared with other store modules
from pipeline.store.page_writer import PageWriter, entries_of
from pipeline.store.paper_meta import upsert_metadata
from pipeline.store.tables import Appearance, Digest, Paper, PaperAlias


def upsert_page(*, session: Session, page: Page, now: datetime) -> PageReport:
    """Store a parsed page (papers, aliases, appearances) and report new/recurring counts.

    The writes are :class:`~pipeline.store.page_writer.PageWriter`'s (Core statements built once
    per dialect); an identical re-read of the page writes nothing.
    """
    return _upsert(session, page, now)[0]


def _upsert(session: Session, page: Page, now: datetime) -> tuple[PageReport, dict[str, int]]:
    """:func:`upsert_page`, and the stored papers of the page's aliases (alias -> paper id)."""
    entries = entries_of(page.papers)
    writer = PageWriter(session.connection())
    writer.resolve(entries)
    digest_id = writer.upsert_digest(page, now)
    unchanged = digest_id is None
    if digest_id is not None:
        writer.write(entries, digest_id, page.listing_date, now)
    earliest: dict[str, date | None] = {}
    for entry in entries:  # a page may list one paper under two titles: count it once
        earliest.setdefault(str(entry.paper_id), entry.earliest)
    changes = diff_papers(earliest, page.listing_date)
    report = PageReport(
        source=page.source,
        origin=page.origin,
        listing_date=page.listing_date,
        papers=len(earliest),
        new=len(changes.new),
        recurring=len(changes.recurring),
        unchanged=unchanged,
        added=sum(1 for first in earliest.values() if first is None),  # not stored before
    )
    return report, writer.owner


def store_page(
    engine: Engine,
    page: Page,
    *,
    now: datetime,
    before_commit: Callable[[Session, PageReport], None] | None = None,
) -> PageReport:
    """Store one parsed page in its own write transaction and report it; ``before_commit``
    writes what must commit with the page (validators, edition marks). A database error rolls
    the whole page back and becomes a :class:`~pipeline.errors.StoreError`."""
    try:
        with write_session(engine) as session:
            report, ids = _upsert(session, page, now)
            upsert_metadata(session=session, page=page, now=now, ids=ids)
            failpoint("before_ingest_commit")
            if before_commit is not None:
                before_commit(session, report)
    except SQLAlchemyError as exc:
        detail = " ".join(str(exc.orig if isinstance(exc, DBAPIError) else exc).split())
        raise StoreError(f"{page.origin}: store error, page not ingested: {detail[:300]}") from exc
    return report


# The paper columns a StoredPaper is made of, in the order of its fields (see record_from_row).
RECORD_COLUMNS = (
    "key",
    "title",
    "abstract",
    "arxiv_id",
    "links",
    "first_seen",
    "last_seen",
    "times_seen",
    "authors",
    "keywords",
)


def record_from_row(row: Any) -> StoredPaper:
    """The record of a row that starts with :data:`RECORD_COLUMNS` (JSON lists made tuples)."""
    key, title, abstract, arxiv_id, links, first, last, times, authors, keywords = row[:10]
    return StoredPaper(
        key, title, abstract, arxiv_id, tuple(links), first, last, times,
        tuple(authors), tuple(keywords),
    )  # fmt: skip


def paper_record(paper: Paper, *, times_seen: int | None = None) -> StoredPaper:
    """The record of a paper row (``times_seen`` overridden, e.g. counted up to an edition)."""
    return StoredPaper(
        key=paper.key,
        title=paper.title,
        abstract=paper.abstract,
        arxiv_id=paper.arxiv_id,
        links=tuple(paper.links),
        first_seen=paper.first_seen,
        last_seen=paper.last_seen,
        times_seen=paper.times_seen if times_seen is None else times_seen,
        authors=tuple(paper.authors),
        keywords=tuple(paper.keywords),
    )


def select_papers(
    *,
    session: Session,
    new_on: date | None = None,
    recurring_on: date | None = None,
    search: str | None = None,
    limit: int | None = None,
) -> list[StoredPaper]:
    """Papers first seen on ``new_on``, recurring on ``recurring_on``, or matching ``search``.

    Ordered by first seen (newest first), then key. With no filter, every paper.
    """
    query = select(Paper)
    if new_on is not None:
        query = query.where(col(Paper.first_seen) == new_on)
    if recurring_on is not None:
        listed = select(col(Appearance.paper_id)).where(
            col(Appearance.listing_date) == recurring_on
        )
        query = query.where(col(Paper.id).in_(listed), col(Paper.first_seen) < recurring_on)
    if search:
        # a literal substring: % and _ typed by the user are not wildcards
        escaped = search.casefold().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        query = query.where(
            or_(
                func.lower(col(Paper.title)).like(pattern, escape="\\"),
                func.lower(col(Paper.abstract)).like(pattern, escape="\\"),
            )
        )
    query = query.order_by(col(Paper.first_seen).desc(), col(Paper.key))
    if limit is not None:
        query = query.limit(limit)
    return [paper_record(paper) for paper in session.exec(query)]


def select_paper(*, session: Session, ref: str) -> StoredPaper | None:
    """One paper by key, alias (``arxiv:…``/``title:…``), bare arXiv id or exact title."""
    candidates = [ref, arxiv_key(ref)]
    try:
        candidates.append(title_key(ref))
    except ValueError:
        pass
    row = session.exec(
        select(Paper)
        .join(PaperAlias, col(PaperAlias.paper_id) == col(Paper.id))
        .where(col(PaperAlias.alias).in_(candidates))
        .order_by(col(Paper.id))
    ).first()
    return paper_record(row) if row is not None else None


def store_counts(*, session: Session) -> dict[str, int]:
    """How many papers, digests and appearances the store holds."""
    return {
        "papers": session.execute(select(func.count()).select_from(Paper)).scalar_one(),
        "digests": session.execute(select(func.count()).select_from(Digest)).scalar_one(),
        "appearances": session.execute(select(func.count()).select_from(Appearance)).scalar_one(),
    }


def last_listing_date(
    *, session: Session, source: str | None = None, with_papers: bool = False
) -> date | None:
    """The latest listing date stored (for one source, or any; ``with_papers``: of a page that
    lists at least one paper, not an empty weekend day)."""
    query = select(func.max(col(Digest.listing_date)))
    if source is not None:
        query = query.where(col(Digest.source) == source)
    if with_papers:
        query = query.where(col(Digest.paper_count) > 0)
    found: date | None = session.execute(query).scalar_one()
    return found


def iter_papers_newest_first(
    *, session: Session, batch: int = CHUNK
) -> Iterator[tuple[StoredPaper, int]]:
    """Every paper, newest first seen first (then key), with its best rank on that first day.

    Reads keyset pages of ``batch`` papers along ``ix_paper_newest`` (first_seen DESC, key), so
    a caller that stops early reads only what it needs, and every page costs the same however
    deep it is: a page starts at ``first_seen <= d AND (first_seen < d OR key > k)``, a range on
    the index's leading column. (The plain ``first_seen < d OR (first_seen = d AND key > k)`` is
    not sargable: SQLite walked or sorted the whole table for every page, 220 s to read 1M
    papers. A row value cannot say it either: the order is DESC on one column, ASC on the other.)
    Only the columns a :class:`StoredPaper` needs are read.
    """
    first_rank = (
        select(func.min(col(Appearance.rank)))
        .where(
            col(Appearance.paper_id) == col(Paper.id),
            col(Appearance.listing_date) == col(Paper.first_seen),
        )
        .scalar_subquery()
    )
    columns = [getattr(Paper, name) for name in RECORD_COLUMNS]
    cursor: tuple[date, str] | None = None
    while True:
        query = select_columns(*columns, first_rank).order_by(
            col(Paper.first_seen).desc(), col(Paper.key)
        )
        if cursor is not None:
            seen, key = cursor
            query = query.where(
                col(Paper.first_seen) <= seen,
                or_(col(Paper.first_seen) < seen, col(Paper.key) > key),
            )
        rows = session.execute(query.limit(batch)).all()
        for row in rows:
            yield record_from_row(row), int(row[-1]) if row[-1] is not None else 1
        if len(rows) < batch:
            return
        cursor = (rows[-1].first_seen, rows[-1].key)


def listing_dates(*, session: Session, source: str, start: date, end: date) -> set[date]:
    """The listing dates stored for ``source`` between ``start`` and ``end`` (inclusive)."""
    query = select(col(Digest.listing_date)).where(
        col(Digest.source) == source, col(Digest.listing_date).between(start, end)
    )
    return set(session.exec(query))
