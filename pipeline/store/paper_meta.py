"""Community metadata of papers: latest values and the upvote history. I/O edge: a ``Session``.

What a Hugging Face entry says besides the text (docs/hf-formats.md §2): upvotes, comments, the
AI summary, the code repository and its stars, the project page. A day is a snapshot (§0.5:
upvotes keep changing for a week or two), so every ingest of a page records what it saw, also
when the page's text is unchanged (the content hash ignores these values on purpose: a new
upvote is not a new edition).

Like the rest of the store, the result does not depend on the order pages are ingested in, and
ingesting a page again changes nothing (docs/reliability.md §1.4):

- ``paper_meta`` holds one row per paper. Counts keep their largest value: upvotes practically
  only grow, so the largest is the latest, and ingesting an older snapshot after a newer one
  never lowers them. Each text (AI summary, repository, project page) keeps the value from the
  latest listing date that gave one, with that date; a tie on the date keeps the binary-greater
  value (``COLLATE "C"`` on PostgreSQL, SQLite's default), so both dialects agree.
- ``paper_votes`` holds each distinct (paper, listing date, upvotes, comments) once, with the
  time of the first ingest that saw it: a rerun of the same file adds nothing, a fetch with
  changed counts adds one row.

All merging happens in SQL (``INSERT ... ON CONFLICT DO UPDATE``), so two writers of the same
paper cannot lose each other's values.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, case, or_
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from pipeline.identity import arxiv_key, title_key
from pipeline.records import Page, ParsedPaper, StoredPaper
from pipeline.store.driver import Cursor, Prepared, Values, prepare
from pipeline.store.engine import insert_for_dialect
from pipeline.store.tables import Paper, PaperAlias, PaperMeta, PaperVotes

CHUNK = 500  # rows per IN (...) look-up and per executemany batch
COUNTS = ("upvotes", "comments", "github_stars")
TEXTS = ("ai_summary", "github_repo", "project_page")


def _alias(paper: ParsedPaper) -> str:
    return arxiv_key(paper.arxiv_id) if paper.arxiv_id else title_key(paper.title)


def _says_something(paper: ParsedPaper) -> bool:
    values = (*(getattr(paper, name) for name in (*COUNTS, *TEXTS)), paper.hf_id)
    return any(value is not None for value in values)


def _paper_ids(session: Session, aliases: Iterable[str]) -> dict[str, int]:
    wanted = sorted(set(aliases))
    found: dict[str, int] = {}
    alias = col(PaperAlias.alias)
    for start in range(0, len(wanted), CHUNK):
        names = wanted[start : start + CHUNK]
        rows = session.exec(select(alias, col(PaperAlias.paper_id)).where(alias.in_(names)))
        found.update(dict(rows.all()))
    return found


def _larger(new: Any, old: Any) -> Any:
    if new is None:
        return old
    return new if old is None or new > old else old


def _merge_row(row: dict[str, Any], other: dict[str, Any]) -> dict[str, Any]:
    """Two observations of one paper on one page, merged like the SQL below merges them."""
    merged = {name: _larger(other[name], row[name]) for name in (*COUNTS, *TEXTS)}
    merged["hf_id"] = min((v for v in (row["hf_id"], other["hf_id"]) if v), default=None)
    return {**row, **merged}


def _meta_rows(page: Page, ids: Mapping[str, int]) -> list[dict[str, Any]]:
    rows: dict[int, dict[str, Any]] = {}
    for paper in page.papers:
        paper_id = ids.get(_alias(paper))
        if paper_id is None or not _says_something(paper):
            continue
        row: dict[str, Any] = {"paper_id": paper_id, "hf_id": paper.hf_id}
        row.update({name: getattr(paper, name) for name in (*COUNTS, *TEXTS)})
        rows[paper_id] = _merge_row(rows[paper_id], row) if paper_id in rows else row
    for row in rows.values():
        for name in TEXTS:
            row[f"{name}_date"] = page.listing_date if row[name] is not None else None
    return [rows[paper_id] for paper_id in sorted(rows)]


def _binary(dialect: str, value: ColumnElement[Any]) -> ColumnElement[Any]:
    """``value`` compared byte by byte on both dialects (PostgreSQL collates by locale)."""
    return value.collate("C") if dialect == "postgresql" else value


def _merge_set(dialect: str, stmt: Any) -> dict[str, Any]:
    """The ``ON CONFLICT DO UPDATE SET`` clause: largest counts, latest texts (see module doc)."""
    table, new = PaperMeta.__table__.c, stmt.excluded  # type: ignore[attr-defined]
    values: dict[str, Any] = {}
    for name in COUNTS:
        fresh, kept = new[name], table[name]
        values[name] = case(
            (fresh.is_(None), kept), (kept.is_(None) | (fresh > kept), fresh), else_=kept
        )
    for name in TEXTS:
        fresh, kept = new[name], table[name]
        fresh_day, kept_day = new[f"{name}_date"], table[f"{name}_date"]
        later = or_(
            kept.is_(None),
            fresh_day > kept_day,
            and_(fresh_day == kept_day, _binary(dialect, fresh) > _binary(dialect, kept)),
        )
        take = and_(fresh.is_not(None), later)
        values[name] = case((take, fresh), else_=kept)
        values[f"{name}_date"] = case((take, fresh_day), else_=kept_day)
    smaller = _binary(dialect, new.hf_id) < _binary(dialect, table.hf_id)
    values["hf_id"] = case((and_(new.hf_id.is_not(None), table.hf_id.is_(None) | smaller),
                            new.hf_id), else_=table.hf_id)  # fmt: skip
    return values


_META_COLUMNS = ("paper_id", "hf_id", *COUNTS, *TEXTS, *(f"{name}_date" for name in TEXTS))
_VOTE_COLUMNS = ("paper_id", "listing_date", "upvotes", "comments", "observed_at")
_PREPARED: dict[tuple[str, str], tuple[Prepared, Prepared]] = {}


def _statements(dialect: Dialect) -> tuple[Prepared, Prepared]:
    """The two writes, built and compiled once per dialect: building the CASE expressions and
    their cache keys cost ~7 ms per page when made afresh (bench/bench_metadata.py), and
    SQLAlchemy's per-value work most of what was left (issue 14): they run on the DB-API
    cursor of the session's connection (:mod:`pipeline.store.driver`)."""
    found = _PREPARED.get((dialect.name, dialect.driver))
    if found is None:
        table = PaperMeta.__table__  # type: ignore[attr-defined]
        meta = insert_for_dialect(dialect.name, table)
        meta = meta.on_conflict_do_update(
            index_elements=["paper_id"], set_=_merge_set(dialect.name, meta)
        )
        votes = insert_for_dialect(dialect.name, PaperVotes.__table__).on_conflict_do_nothing()  # type: ignore[attr-defined]
        found = (prepare(meta, dialect, _META_COLUMNS), prepare(votes, dialect, _VOTE_COLUMNS))
        _PREPARED[(dialect.name, dialect.driver)] = found
    return found


def upsert_metadata(
    *, session: Session, page: Page, now: datetime, ids: Mapping[str, int] | None = None
) -> int:
    """Record what ``page`` says about its (already stored) papers; returns how many papers.

    Call inside the page's write transaction, after the papers are stored (their aliases
    find them; ``ids``, when given, are the stored aliases' papers, as the caller that stored
    them knows them). Papers the page says nothing about (text pages) are left alone.
    """
    said = [paper for paper in page.papers if _says_something(paper)]
    if not said:
        return 0
    if ids is None:
        ids = _paper_ids(session, (_alias(paper) for paper in said))
    rows = _meta_rows(page, ids)
    connection = session.connection()
    meta, history = _statements(connection.dialect)
    cursor, values = Cursor(connection), Values(connection.dialect.name)
    for row in rows:
        for name in TEXTS:
            if row[f"{name}_date"] is not None:
                row[f"{name}_date"] = values.day(row[f"{name}_date"])
    for start in range(0, len(rows), CHUNK):
        cursor.many(meta, rows[start : start + CHUNK])
    day, stamp = values.day(page.listing_date), values.stamp(now)
    votes = [
        {
            "paper_id": ids[_alias(paper)],
            "listing_date": day,
            "upvotes": paper.upvotes,
            "comments": paper.comments,
            "observed_at": stamp,
        }
        for paper in said
        if paper.upvotes is not None and paper.comments is not None and _alias(paper) in ids
    ]
    for start in range(0, len(votes), CHUNK):
        cursor.many(history, votes[start : start + CHUNK])
    return len(rows)


def with_metadata(*, session: Session, papers: Sequence[StoredPaper]) -> list[StoredPaper]:
    """``papers`` with their latest community values (those without any are returned as is)."""
    keys = sorted({paper.key for paper in papers})
    found: dict[str, PaperMeta] = {}
    for start in range(0, len(keys), CHUNK):
        rows = session.exec(
            select(col(Paper.key), PaperMeta)
            .join(PaperMeta, col(PaperMeta.paper_id) == col(Paper.id))
            .where(col(Paper.key).in_(keys[start : start + CHUNK]))
        )
        found.update(dict(rows.all()))
    return [_with(paper, found[paper.key]) if paper.key in found else paper for paper in papers]


def _with(paper: StoredPaper, meta: PaperMeta) -> StoredPaper:
    values = {name: getattr(meta, name) for name in (*COUNTS, *TEXTS, "hf_id")}
    return dataclasses.replace(paper, **values)


def rank_by_votes(papers: Iterable[StoredPaper]) -> tuple[StoredPaper, ...]:
    """Most upvoted first, papers without a count last; ties keep their order (page rank)."""
    return tuple(sorted(papers, key=lambda p: (p.upvotes is None, -(p.upvotes or 0))))


def vote_history(*, session: Session, key: str) -> list[tuple[date, int, int, datetime]]:
    """A paper's observations (listing date, upvotes, comments, first seen at), oldest first."""
    rows = session.exec(
        select(
            col(PaperVotes.listing_date),
            col(PaperVotes.upvotes),
            col(PaperVotes.comments),
            col(PaperVotes.observed_at),
        )
        .join(Paper, col(Paper.id) == col(PaperVotes.paper_id))
        .where(col(Paper.key) == key)
        .order_by(col(PaperVotes.listing_date), col(PaperVotes.upvotes), col(PaperVotes.comments))
    )
    return [tuple(row) for row in rows]  # type: ignore[misc]
