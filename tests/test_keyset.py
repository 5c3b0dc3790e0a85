"""Keyset pagination of the store's papers, newest first (issue 12): every paper once, in
order, across batch boundaries that fall between papers of the same first-seen day; and each
page is an index range, not a scan (query plans on SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import Engine, text

from pipeline.store.engine import read_session, write_session
from pipeline.store.papers import iter_papers_newest_first, select_papers, upsert_page
from tests.conftest import NOW
from tests.email_support import page

START = date(2026, 11, 1)


def _seed(engine: Engine, days: int, per_day: int) -> None:
    for d in range(days):
        day = START + timedelta(days=d)
        papers = [
            # arxiv: and title: keys mixed, so the key order differs from the page order
            (
                f"Paper {d}-{i} on attention",
                "An abstract.",
                f"2611.{d:02d}{i:03d}" if i % 2 else None,
            )
            for i in range(per_day)
        ]
        with write_session(engine) as session:
            upsert_page(session=session, page=page(day, papers), now=NOW)


def test_keyset_pages_return_every_paper_once_in_order_across_ties(engine: Engine) -> None:
    _seed(engine, days=5, per_day=7)
    with read_session(engine) as session:
        expected = [(p.first_seen, p.key) for p in select_papers(session=session)]
        assert len(expected) == 35
        for batch in (1, 3, 7, 8, 35, 36, 500):
            got = [
                (p.first_seen, p.key)
                for p, _ in iter_papers_newest_first(session=session, batch=batch)
            ]
            assert got == expected, batch
        assert expected == sorted(expected, key=lambda fk: (-fk[0].toordinal(), fk[1]))


def test_keyset_page_ranks_are_first_day_ranks(engine: Engine) -> None:
    _seed(engine, days=2, per_day=3)
    with read_session(engine) as session:
        ranks = {p.key: r for p, r in iter_papers_newest_first(session=session, batch=2)}
    assert sorted(ranks.values()) == [1, 1, 2, 2, 3, 3]


def test_keyset_page_is_an_index_range(engine: Engine) -> None:
    """A later page starts inside ix_paper_newest: no full scan, no sort of the table."""
    _seed(engine, days=3, per_day=4)
    predicate = (
        "first_seen <= :d AND (first_seen < :d OR key > :k) ORDER BY first_seen DESC, key LIMIT 10"
    )
    args = {"d": START + timedelta(days=1), "k": "title:x"}
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            plan = " ".join(
                str(row[-1])
                for row in conn.execute(
                    text(f"EXPLAIN QUERY PLAN SELECT key FROM paper WHERE {predicate}"), args
                )
            )
            assert "ix_paper_newest (first_seen<?)" in plan and "TEMP B-TREE" not in plan, plan
        else:
            # a tiny table, where any plan is cheap: ask whether a sort-free index plan exists
            for kind in ("seqscan", "bitmapscan", "sort"):
                conn.execute(text(f"SET enable_{kind} = off"))
            plan = " ".join(
                row[0]
                for row in conn.execute(
                    text(f"EXPLAIN SELECT key FROM paper WHERE {predicate}"), args
                )
            )
            assert "ix_paper_newest" in plan and "Sort" not in plan, plan
