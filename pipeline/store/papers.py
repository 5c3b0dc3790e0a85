"""Store operations: upsert a parsed page, query papers. I/O edge: a database ``Session``.

Every function takes a session (keyword-only) inside a transaction the caller opened with
:func:`~pipeline.store.engine.write_session` or :func:`~pipeline.store.engine.read_session`, and
returns records, never table rows. Writes are batched and look-ups go through indexes, so
ingesting a page costs the same with 10k or 1M papers stored. All updates are monotone (earliest
text wins, link sets grow, first/last seen recomputed from appearances), which makes the final
store independent of the order pages are ingested in and of ingesting a page twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import Engine, case, distinct, func, or_, update
from sqlalchemy import select as select_columns
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlmodel import Session, col, select

from pipeline.diff import diff_papers, prefer_text
from pipeline.errors import StoreError
from pipeline.failpoints import failpoint
from pipeline.identity import arxiv_key, title_key
from pipeline.records import Page, PageReport, ParsedPaper, StoredPaper
from pipeline.store.engine import insert_for, write_session
from pipeline.store.paper_meta import upsert_metadata
from pipeline.store.tables import Appearance, Digest, Paper, PaperAlias

CHUNK = 500  # rows per IN (...) look-up and per executemany batch
_T = TypeVar("_T")


def _chunks(items: Sequence[_T], size: int = CHUNK) -> Iterator[Sequence[_T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _id(row: Paper | Digest) -> int:
    return _id_value(row.id)


def _id_value(value: int | None) -> int:
    if value is None:  # rows read back from the database always have an id
        raise AssertionError("row without id")
    return value


@dataclass
class _Entry:
    """A parsed paper on its way into the store."""

    parsed: ParsedPaper
    aliases: tuple[str, ...]  # arXiv key first (when known), then the title key
    paper_id: int | None = None
    earliest: date | None = None  # first_seen before this page


def _entries(papers: Iterable[ParsedPaper]) -> list[_Entry]:
    entries: dict[str, _Entry] = {}
    for parsed in papers:
        aliases: tuple[str, ...] = (title_key(parsed.title),)
        if parsed.arxiv_id:
            aliases = (arxiv_key(parsed.arxiv_id), *aliases)
        if aliases[0] not in entries:  # the same paper twice on a page: keep the first rank
            entries[aliases[0]] = _Entry(parsed=parsed, aliases=aliases)
    return list(entries.values())


def _resolve(session: Session, entries: list[_Entry]) -> dict[int, Paper]:
    """Find stored papers for entries by alias; return the stored papers by id."""
    wanted = sorted({alias for entry in entries for alias in entry.aliases})
    owner: dict[str, int] = {}
    alias = col(PaperAlias.alias)
    for names in _chunks(wanted):
        rows = session.exec(select(alias, col(PaperAlias.paper_id)).where(alias.in_(names)))
        owner.update(dict(rows.all()))
    papers: dict[int, Paper] = {}
    for ids in _chunks(sorted(set(owner.values()))):
        for paper in session.exec(select(Paper).where(col(Paper.id).in_(ids))):
            papers[_id(paper)] = paper
    for entry in entries:
        arxiv_id = entry.parsed.arxiv_id
        by_id = owner.get(entry.aliases[0]) if arxiv_id else None
        by_title = owner.get(entry.aliases[-1])
        if by_id is not None:
            entry.paper_id = by_id
        elif by_title is not None and (papers[by_title].arxiv_id in (None, arxiv_id)):
            entry.paper_id = by_title  # a title-only paper gains its arXiv id: one paper
        if entry.paper_id is not None:
            entry.earliest = papers[entry.paper_id].first_seen
    return papers


def _insert_new(session: Session, entries: list[_Entry], listing_date: date, now: datetime) -> None:
    fresh = [e for e in entries if e.paper_id is None]
    if not fresh:
        return
    rows = [
        {
            "key": e.aliases[0],
            "arxiv_id": e.parsed.arxiv_id,
            "title": e.parsed.title,
            "abstract": e.parsed.abstract,
            "text_date": listing_date,
            "links": sorted(e.parsed.links),
            "authors": list(e.parsed.authors),
            "keywords": list(e.parsed.keywords),
            "first_seen": listing_date,
            "last_seen": listing_date,
            "times_seen": 0,
            "created_at": now,
        }
        for e in fresh
    ]
    for batch in _chunks(rows):
        session.execute(insert_for(session, Paper).on_conflict_do_nothing(), list(batch))
    found: dict[str, int] = {}
    for keys in _chunks([e.aliases[0] for e in fresh]):
        query = select(col(Paper.key), col(Paper.id)).where(col(Paper.key).in_(keys))
        found.update({key: _id_value(paper_id) for key, paper_id in session.exec(query)})
    for entry in fresh:
        entry.paper_id = found[entry.aliases[0]]


def _merge_existing(
    session: Session, entries: list[_Entry], papers: dict[int, Paper], listing_date: date
) -> None:
    changes = []
    for entry in entries:
        stored = papers.get(entry.paper_id) if entry.paper_id is not None else None
        if stored is None:
            continue
        parsed = entry.parsed
        kept = prefer_text(
            (stored.text_date, stored.title, stored.abstract),
            (listing_date, parsed.title, parsed.abstract),
        )
        change: dict[str, Any] = {}
        if kept != (stored.text_date, stored.title, stored.abstract):
            change.update(text_date=kept[0], title=kept[1], abstract=kept[2])
        links = sorted(set(stored.links) | set(parsed.links))
        if links != stored.links:
            change["links"] = links
        for name in ("authors", "keywords"):
            best = max(
                list(getattr(stored, name)), list(getattr(parsed, name)), key=lambda v: (bool(v), v)
            )
            if best != getattr(stored, name):
                change[name] = best
        if parsed.arxiv_id and stored.arxiv_id is None:
            change["arxiv_id"] = parsed.arxiv_id
        if change:
            changes.append({"id": stored.id, **change})
    for chunk in _chunks(changes):
        session.execute(update(Paper), list(chunk))


def _link(session: Session, entries: list[_Entry], digest_id: int, listing_date: date) -> None:
    aliases = [{"alias": alias, "paper_id": e.paper_id} for e in entries for alias in e.aliases]
    for batch in _chunks(aliases):
        session.execute(insert_for(session, PaperAlias).on_conflict_do_nothing(), list(batch))
    rows = [
        {
            "paper_id": e.paper_id,
            "digest_id": digest_id,
            "listing_date": listing_date,
            "rank": e.parsed.rank,
        }
        for e in entries
    ]
    stmt = insert_for(session, Appearance)
    keep_lower = case(
        (stmt.excluded.rank < col(Appearance.rank), stmt.excluded.rank), else_=col(Appearance.rank)
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["paper_id", "digest_id"], set_={"rank": keep_lower}
    )
    for chunk in _chunks(rows):
        session.execute(stmt, list(chunk))


def _refresh_seen(session: Session, paper_ids: Sequence[int]) -> None:
    """Recompute first/last seen and times seen from appearances (monotone, order-free)."""
    mine = col(Appearance.paper_id) == col(Paper.id)
    first = select(func.min(col(Appearance.listing_date))).where(mine).scalar_subquery()
    last = select(func.max(col(Appearance.listing_date))).where(mine).scalar_subquery()
    times = select(func.count(distinct(col(Appearance.listing_date)))).where(mine).scalar_subquery()
    for chunk in _chunks(sorted(paper_ids)):
        session.execute(
            update(Paper)
            .where(col(Paper.id).in_(chunk))
            .values(first_seen=first, last_seen=last, times_seen=times)
            .execution_options(synchronize_session=False)
        )


def _upsert_digest(session: Session, page: Page, now: datetime) -> tuple[int, bool]:
    """Insert or update the digest row; return its id and whether this page is the one read last.

    One digest holds one source's listing of one date, the union of every page read for that
    date (issue 15.1: a same-day snapshot, a re-fetch that returns fewer entries); its
    ``content_hash`` and ``origin`` say which page was read last, so an identical re-read is
    skipped, and ``paper_count`` is counted from the appearances by :func:`_count_listed`.
    """
    where = (col(Digest.source) == page.source) & (col(Digest.listing_date) == page.listing_date)
    existing = session.exec(select(Digest).where(where)).first()
    if existing is not None and existing.content_hash == page.content_hash:
        return _id(existing), True
    values = {"origin": page.origin, "content_hash": page.content_hash, "ingested_at": now}
    session.execute(
        insert_for(session, Digest)
        .values(source=page.source, listing_date=page.listing_date, paper_count=0, **values)
        .on_conflict_do_update(index_elements=["source", "listing_date"], set_=values)
    )
    digest_id = session.execute(select(col(Digest.id)).where(where)).scalar_one()
    return digest_id, False


def _count_listed(session: Session, digest_id: int) -> None:
    """The digest's paper count: its appearances, the union of the pages read for its date."""
    listed = (
        select_columns(func.count())
        .select_from(Appearance)
        .where(col(Appearance.digest_id) == digest_id)
        .scalar_subquery()
    )
    session.execute(
        update(Digest)
        .where(col(Digest.id) == digest_id)
        .values(paper_count=listed)
        .execution_options(synchronize_session=False)
    )


def upsert_page(*, session: Session, page: Page, now: datetime) -> PageReport:
    """Store a parsed page (papers, aliases, appearances) and report new/recurring counts."""
    entries = _entries(page.papers)
    papers = _resolve(session, entries)
    digest_id, unchanged = _upsert_digest(session, page, now)
    if not unchanged:
        _insert_new(session, entries, page.listing_date, now)
        _merge_existing(session, entries, papers, page.listing_date)
        _link(session, entries, digest_id, page.listing_date)
        _count_listed(session, digest_id)
        _refresh_seen(session, sorted({e.paper_id for e in entries if e.paper_id is not None}))
    earliest: dict[str, date | None] = {}
    for entry in entries:  # a page may list one paper under two titles: count it once
        earliest.setdefault(str(entry.paper_id), entry.earliest)
    changes = diff_papers(earliest, page.listing_date)
    return PageReport(
        source=page.source,
        origin=page.origin,
        listing_date=page.listing_date,
        papers=len(earliest),
        new=len(changes.new),
        recurring=len(changes.recurring),
        unchanged=unchanged,
        added=sum(1 for first in earliest.values() if first is None),  # not stored before
    )


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
            report = upsert_page(session=session, page=page, now=now)
            upsert_metadata(session=session, page=page, now=now)
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


def last_listing_date(*, session: Session, source: str | None = None) -> date | None:
    """The latest listing date stored (for one source, or any)."""
    query = select(func.max(col(Digest.listing_date)))
    if source is not None:
        query = query.where(col(Digest.source) == source)
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
