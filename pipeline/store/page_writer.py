"""Writing one parsed page into the store: the write path of ``papers.upsert_page``.

Every statement is built with SQLAlchemy Core once per dialect and compiled once to the
driver's SQL (:mod:`pipeline.store.driver`); it runs on the DB-API cursor of the session's own
connection, inside the page's transaction, as an ``executemany`` of parameter sets. Building
``case()``, ``on_conflict_do_update`` and ``in_()`` afresh for each page, the ORM's bulk insert,
one correlated subquery per paper and column, and then SQLAlchemy's per-value work cost most of
an ingest (issue 14). Per page:

1. the page's papers looked up by alias in one query joined to their rows;
2. the digest upserted with ``RETURNING id`` (no row back: the same content was read before,
   and nothing else is written);
3. new papers inserted with ``RETURNING id, key`` and their seen values (a key another writer
   inserted meanwhile returns nothing: it is looked up again and merged like a stored paper);
4. changed papers updated, one row per paper, only the columns that changed;
5. new aliases inserted, appearances upserted (the lower rank kept), the digest's count;
6. first/last seen and times seen of the papers stored before recomputed from their
   appearances by one grouped ``UPDATE ... FROM``, which writes only rows whose values change
   (a paper this page created went in with its one listing date).

Needs SQLite >= 3.35 (``RETURNING``; ``UPDATE ... FROM`` since 3.33; ``json_each``) or
PostgreSQL.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import Connection, bindparam, distinct, func, or_, select, update
from sqlalchemy.engine import Dialect

from pipeline.diff import prefer_text
from pipeline.errors import StoreError
from pipeline.identity import arxiv_key, title_key
from pipeline.records import Page, ParsedPaper
from pipeline.store.driver import Cursor, Prepared, Values, in_list, prepare
from pipeline.store.engine import insert_for_dialect
from pipeline.store.tables import Appearance, Digest, Paper, PaperAlias

CHUNK = 500  # rows per IN (...) look-up and per executemany batch
SQLITE_MIN = (3, 35, 0)  # INSERT ... RETURNING
_T = TypeVar("_T")
_PAPER = Paper.__table__  # type: ignore[attr-defined]
_ALIAS = PaperAlias.__table__  # type: ignore[attr-defined]
_DIGEST = Digest.__table__  # type: ignore[attr-defined]
_APPEARANCE = Appearance.__table__  # type: ignore[attr-defined]
# What a merge may change, as read back by the look-up (after alias and id).
_MERGED = ("arxiv_id", "first_seen", "text_date", "title", "abstract", "links", "authors",
           "keywords")  # fmt: skip


def _chunks(items: Sequence[_T], size: int = CHUNK) -> Iterator[Sequence[_T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass
class Entry:
    """A parsed paper on its way into the store."""

    parsed: ParsedPaper
    aliases: tuple[str, ...]  # arXiv key first (when known), then the title key
    paper_id: int | None = None
    earliest: date | None = None  # first_seen before this page


def entries_of(papers: Sequence[ParsedPaper]) -> list[Entry]:
    """The page's papers with their aliases; the same paper twice keeps its first rank."""
    entries: dict[str, Entry] = {}
    for parsed in papers:
        aliases: tuple[str, ...] = (title_key(parsed.title),)
        if parsed.arxiv_id:
            aliases = (arxiv_key(parsed.arxiv_id), *aliases)
        if aliases[0] not in entries:
            entries[aliases[0]] = Entry(parsed=parsed, aliases=aliases)
    return list(entries.values())


_INSERTED = ("key", "arxiv_id", "title", "abstract", "text_date", "links", "authors", "keywords",
             "first_seen", "last_seen", "times_seen", "created_at")  # fmt: skip
_DIGEST_COLUMNS = ("source", "listing_date", "origin", "content_hash", "paper_count", "ingested_at")


@dataclass(frozen=True)
class _Statements:
    dialect: Dialect
    digest: Prepared
    lookup: Prepared
    insert_papers: Prepared
    insert_aliases: Prepared
    insert_aliases_returning: Prepared
    upsert_appearances: Prepared
    count_listed: Prepared
    refresh_seen: Prepared
    updates: dict[tuple[str, ...], Prepared]  # by the columns an update sets, made when needed

    def update_paper(self, columns: tuple[str, ...]) -> Prepared:
        found = self.updates.get(columns)
        if found is None:
            where = _PAPER.c.id == bindparam("paper_id")
            found = self.updates[columns] = prepare(update(_PAPER).where(where), self.dialect,
                                                    columns)  # fmt: skip
        return found


_CACHE: dict[tuple[str, str], _Statements] = {}


def _statements(dialect: Dialect) -> _Statements:
    """Every statement of the write path, built and compiled once per dialect and driver."""
    found = _CACHE.get((dialect.name, dialect.driver))
    if found is None:
        found = _CACHE[(dialect.name, dialect.driver)] = _build(dialect)
    return found


def _build(dialect: Dialect) -> _Statements:
    name = dialect.name
    if name == "sqlite" and sqlite3.sqlite_version_info < SQLITE_MIN:
        raise StoreError(
            f"SQLite {sqlite3.sqlite_version} is too old for paperboy's store: it needs "
            f"{'.'.join(map(str, SQLITE_MIN))} or newer (INSERT ... RETURNING)"
        )
    paper, alias, digest, appearance = _PAPER.c, _ALIAS.c, _DIGEST.c, _APPEARANCE.c
    upsert = insert_for_dialect(name, _DIGEST)
    # A re-read of the same content writes nothing and returns no row.
    digest_stmt = upsert.on_conflict_do_update(
        index_elements=["source", "listing_date"],
        set_={column: upsert.excluded[column] for column in ("origin", "content_hash",
                                                             "ingested_at")},
        where=digest.content_hash != upsert.excluded.content_hash,
    ).returning(digest.id)  # fmt: skip
    lookup = (
        select(alias.alias, paper.id, *(paper[column] for column in _MERGED))
        .select_from(_ALIAS.join(_PAPER, paper.id == alias.paper_id))
        .where(in_list(alias.alias, "aliases", name))
    )
    insert_papers = (
        insert_for_dialect(name, _PAPER).on_conflict_do_nothing().returning(paper.id, paper.key)
    )
    appearances = insert_for_dialect(name, _APPEARANCE)
    upsert_appearances = appearances.on_conflict_do_update(
        index_elements=["paper_id", "digest_id"],
        set_={"rank": appearances.excluded.rank},
        where=appearances.excluded.rank < appearance.rank,  # the lower rank is kept
    )
    digest_id: Any = bindparam("digest_id")
    listed = select(func.count()).where(appearance.digest_id == digest_id).scalar_subquery()
    count_listed = update(_DIGEST).where(digest.id == digest_id).values(paper_count=listed)
    seen = (
        select(
            appearance.paper_id,
            func.min(appearance.listing_date).label("first"),
            func.max(appearance.listing_date).label("last"),
            func.count(distinct(appearance.listing_date)).label("times"),
        )
        .where(in_list(appearance.paper_id, "ids", name))
        .group_by(appearance.paper_id)
        .subquery("seen")
    )
    refresh_seen = (
        update(_PAPER)
        .where(
            paper.id == seen.c.paper_id,
            or_(
                paper.first_seen != seen.c.first,
                paper.last_seen != seen.c.last,
                paper.times_seen != seen.c.times,
            ),
        )
        .values(first_seen=seen.c.first, last_seen=seen.c.last, times_seen=seen.c.times)
    )
    aliases = insert_for_dialect(name, _ALIAS).on_conflict_do_nothing()
    return _Statements(
        dialect=dialect,
        digest=prepare(digest_stmt, dialect, _DIGEST_COLUMNS),
        lookup=prepare(lookup, dialect),
        insert_papers=prepare(insert_papers, dialect, _INSERTED),
        insert_aliases=prepare(aliases, dialect, ("alias", "paper_id")),
        insert_aliases_returning=prepare(
            aliases.returning(alias.alias), dialect, ("alias", "paper_id")
        ),
        upsert_appearances=prepare(upsert_appearances, dialect, ("paper_id", "digest_id",
                                                                 "listing_date", "rank")),
        count_listed=prepare(count_listed, dialect),
        refresh_seen=prepare(refresh_seen, dialect),
        updates={},
    )  # fmt: skip


class PageWriter:
    """Stores one page's papers through one connection (inside the page's transaction)."""

    def __init__(self, connection: Connection) -> None:
        self.sql = _statements(connection.dialect)
        self.cursor = Cursor(connection)
        self.values = Values(connection.dialect.name)
        self.stored: dict[int, dict[str, Any]] = {}  # papers read by lookup, by id
        self.owner: dict[str, int] = {}  # alias -> paper id, as stored (read or written)
        self.inserted: set[int] = set()  # papers this page created (seen values already final)

    def _lookup(self, aliases: Sequence[str]) -> list[Any]:
        found = []
        for names in _chunks(aliases):
            found += self.cursor.rows(self.sql.lookup, {"aliases": self.values.id_list(names)})
        return found

    def resolve(self, entries: Sequence[Entry]) -> None:
        """Find stored papers for entries by alias (arXiv key first, then title)."""
        wanted = sorted({alias for entry in entries for alias in entry.aliases} - set(self.owner))
        read_day, read_json = self.values.read_day, self.values.read_json
        for alias, paper_id, *merged in self._lookup(wanted):
            self.owner[alias] = paper_id
            if paper_id not in self.stored:
                paper = dict(zip(_MERGED, merged, strict=True))
                for name in ("first_seen", "text_date"):
                    paper[name] = read_day(paper[name])
                for name in ("links", "authors", "keywords"):
                    paper[name] = read_json(paper[name])
                self.stored[paper_id] = paper
        for entry in entries:
            if entry.paper_id is not None:
                continue
            arxiv_id = entry.parsed.arxiv_id
            by_id = self.owner.get(entry.aliases[0]) if arxiv_id else None
            by_title = self.owner.get(entry.aliases[-1])
            if by_id is not None:
                entry.paper_id = by_id
            elif by_title is not None and (
                arxiv_id is None or self.stored[by_title]["arxiv_id"] in (None, arxiv_id)
            ):
                # one paper: a title-only paper gains its arXiv id, and a title-only listing (a
                # text page) of a paper stored with its id is that paper; the same title with
                # another arXiv id stays a paper of its own
                entry.paper_id = by_title
            if entry.paper_id is not None:
                entry.earliest = self.stored[entry.paper_id]["first_seen"]

    def upsert_digest(self, page: Page, now: datetime) -> int | None:
        """The digest's id, or None when this content was the page read last (unchanged)."""
        values = {
            "source": page.source,
            "listing_date": self.values.day(page.listing_date),
            "origin": page.origin,
            "content_hash": page.content_hash,
            "paper_count": 0,
            "ingested_at": self.values.stamp(now),
        }
        found = self.cursor.rows(self.sql.digest, values)
        return int(found[0][0]) if found else None

    def write(
        self, entries: list[Entry], digest_id: int, listing_date: date, now: datetime
    ) -> None:
        """Store the entries of a changed page (already resolved) under ``digest_id``."""
        self._insert_new(entries, listing_date, now)
        self._merge_existing(entries, listing_date)
        self._link(entries, digest_id, listing_date)
        self.cursor.rows(self.sql.count_listed, {"digest_id": digest_id})
        # A paper created by this page has one appearance, this one: it went in with its seen
        # values. The others are recomputed from their appearances.
        ids = sorted({e.paper_id for e in entries if e.paper_id is not None} - self.inserted)
        for chunk in _chunks(ids):
            self.cursor.rows(self.sql.refresh_seen, {"ids": self.values.id_list(chunk)})

    def _insert_new(self, entries: list[Entry], listing_date: date, now: datetime) -> None:
        fresh = [e for e in entries if e.paper_id is None]
        day, stamp, as_json = (
            self.values.day(listing_date),
            self.values.stamp(now),
            self.values.json,
        )
        rows = [
            {
                "key": e.aliases[0],
                "arxiv_id": e.parsed.arxiv_id,
                "title": e.parsed.title,
                "abstract": e.parsed.abstract,
                "text_date": day,
                "links": as_json(sorted(e.parsed.links)),
                "authors": as_json(list(e.parsed.authors)),
                "keywords": as_json(list(e.parsed.keywords)),
                "first_seen": day,
                "last_seen": day,
                "times_seen": 1,  # its one listing date: the refresh then finds nothing to change
                "created_at": stamp,
            }
            for e in fresh
        ]
        made: dict[str, int] = {}
        for batch in _chunks(rows):
            made.update((key, paper_id) for paper_id, key in self.cursor.many_returning(
                self.sql.insert_papers, batch))  # fmt: skip
        raced = []
        self.inserted.update(made.values())
        for entry in fresh:
            entry.paper_id = made.get(entry.aliases[0])
            if entry.paper_id is None:
                raced.append(entry)  # stored by another writer since the look-up
        if raced:
            self.resolve(raced)
            lost = [e.aliases[0] for e in raced if e.paper_id is None]
            if lost:
                raise StoreError(f"papers neither inserted nor found: {', '.join(lost[:5])}")

    def _merge_existing(self, entries: list[Entry], listing_date: date) -> None:
        """Monotone merges into stored papers: earliest text, growing links, fuller lists,
        the arXiv id filled once. Several entries of one paper merge one after the other."""
        changed: dict[int, dict[str, Any]] = {}
        for entry in entries:
            stored = self.stored.get(entry.paper_id) if entry.paper_id is not None else None
            if stored is None:
                continue
            change = _merge(stored, entry.parsed, listing_date)
            if change:
                stored.update(change)
                changed.setdefault(entry.paper_id, {}).update(change)  # type: ignore[arg-type]
        by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for paper_id, change in sorted(changed.items()):
            row = {name: self._bound(name, value) for name, value in change.items()}
            by_columns.setdefault(tuple(sorted(change)), []).append({"paper_id": paper_id, **row})
        for columns, rows in by_columns.items():  # one executemany per set of changed columns
            for chunk in _chunks(rows):
                self.cursor.many(self.sql.update_paper(columns), chunk)

    def _bound(self, name: str, value: Any) -> Any:
        if name == "text_date":
            return self.values.day(value)
        if name in ("links", "authors", "keywords"):
            return self.values.json(value)
        return value

    def _link(self, entries: list[Entry], digest_id: int, listing_date: date) -> None:
        aliases: dict[str, int] = {}
        ranks: dict[int, int] = {}
        for entry in entries:
            assert entry.paper_id is not None  # every entry is stored by now
            for alias in entry.aliases:
                if alias not in self.owner:
                    aliases.setdefault(alias, entry.paper_id)  # the first entry claims it
            rank = ranks.get(entry.paper_id)
            if rank is None or entry.parsed.rank < rank:
                ranks[entry.paper_id] = entry.parsed.rank
        alias_rows = [{"alias": alias, "paper_id": pid} for alias, pid in aliases.items()]
        claimed: set[str] = set()
        if self.values.sqlite:  # one writer at a time: what resolve did not find is free
            for chunk in _chunks(alias_rows):
                self.cursor.many(self.sql.insert_aliases, chunk)
            claimed.update(aliases)
        else:  # another transaction may have claimed an alias since: ask which went in
            for chunk in _chunks(alias_rows):
                found = self.cursor.many_returning(self.sql.insert_aliases_returning, chunk)
                claimed.update(row[0] for row in found)
        self.owner.update((alias, aliases[alias]) for alias in claimed)
        taken = [alias for alias in aliases if alias not in claimed]  # by another writer
        self.owner.update((row[0], row[1]) for row in self._lookup(taken))
        day = self.values.day(listing_date)
        rows = [
            {"paper_id": paper_id, "digest_id": digest_id, "listing_date": day, "rank": rank}
            for paper_id, rank in ranks.items()
        ]
        for chunk in _chunks(rows):
            self.cursor.many(self.sql.upsert_appearances, chunk)


def _merge(stored: dict[str, Any], parsed: ParsedPaper, listing_date: date) -> dict[str, Any]:
    """The columns of ``stored`` that ``parsed`` (listed on ``listing_date``) changes."""
    change: dict[str, Any] = {}
    current = (stored["text_date"], stored["title"], stored["abstract"])
    kept = prefer_text(current, (listing_date, parsed.title, parsed.abstract))
    if kept != current:
        change.update(text_date=kept[0], title=kept[1], abstract=kept[2])
    links = sorted(set(stored["links"]) | set(parsed.links))
    if links != stored["links"]:
        change["links"] = links
    for name in ("authors", "keywords"):
        best = max(list(stored[name]), list(getattr(parsed, name)), key=lambda v: (bool(v), v))
        if best != stored[name]:
            change[name] = best
    if parsed.arxiv_id and stored["arxiv_id"] is None:
        change["arxiv_id"] = parsed.arxiv_id
    return change
