"""Community metadata in the store: latest values, upvote history, ranking (issue 13 part 2).

Real stores (SQLite file and PostgreSQL), real archive days (tests/data/hf/archive, the
2025-01-22 day fetched twice: 5 then 7 upvotes for 2501.12273), pages built from literals.
"""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlmodel import Session

from pipeline.ingest.parse import content_hash, parse_saved_page
from pipeline.records import Page, ParsedPaper, StoredPaper
from pipeline.store.editions import select_edition
from pipeline.store.engine import read_session
from pipeline.store.integrity import check_store
from pipeline.store.paper_meta import rank_by_votes, vote_history, with_metadata
from pipeline.store.papers import select_paper, store_page
from pipeline.store.tables import PaperMeta, PaperVotes
from tests.conftest import DATA, NOW

ARCHIVE = DATA / "hf" / "archive"
DAY_FILE = ARCHIVE / "Paper_metadata_download" / "2026-07-09.json"
EARLY = ARCHIVE / "history" / "2025-01-22@2d9980edc137" / "2025-01-22.json"  # 04:16Z, 1 entry
LATE = ARCHIVE / "Paper_metadata_download" / "2025-01-22.json"


def _page(path: Path) -> Page:
    return parse_saved_page(
        path.read_text(encoding="utf-8"), origin=str(path), source="hf-api",
        today=NOW.date(), listing_date=None,
    )  # fmt: skip


def _store(engine: Engine, *pages: Page, minutes: int = 0) -> None:
    for page in pages:
        store_page(engine, page, now=NOW + timedelta(minutes=minutes))


META_COLUMNS = (
    *("upvotes", "comments", "github_stars", "ai_summary", "ai_summary_date", "github_repo"),
    *("github_repo_date", "project_page", "project_page_date", "hf_id"),
)


def _meta(engine: Engine) -> list[tuple[object, ...]]:
    """paper_meta rows in paper order: the columns of META_COLUMNS."""
    table = PaperMeta.__table__.c  # type: ignore[attr-defined]
    with read_session(engine) as session:
        query = select(*(table[name] for name in META_COLUMNS)).order_by(table.paper_id)
        return [tuple(row) for row in session.execute(query)]


def _with_meta(session: Session, ref: str) -> StoredPaper:
    stored = select_paper(session=session, ref=ref)
    assert stored is not None
    return with_metadata(session=session, papers=[stored])[0]


def _votes(engine: Engine) -> list[tuple[object, ...]]:
    with read_session(engine) as session:
        query = select(
            PaperVotes.paper_id, PaperVotes.listing_date, PaperVotes.upvotes, PaperVotes.comments
        ).order_by(PaperVotes.paper_id, PaperVotes.listing_date, PaperVotes.upvotes)
        return [tuple(row) for row in session.execute(query)]


def test_real_day_keeps_what_the_api_gives(engine: Engine) -> None:
    _store(engine, _page(DAY_FILE))
    with read_session(engine) as session:
        paper = _with_meta(session, "2607.07708")
        history = vote_history(session=session, key=paper.key)
        assert check_store(session=session) == []
    assert (paper.upvotes, paper.comments, paper.github_stars) == (60, 1, 1)
    assert paper.github_repo == "https://github.com/SpectrAI-Initiative/SciReasoner"
    assert paper.project_page == "https://scireasoner.github.io"
    assert paper.ai_summary and paper.ai_summary.startswith("SciReasoner is a multimodal")
    assert [(d, u, c) for d, u, c, _at in history] == [(date(2026, 7, 9), 60, 1)]
    assert len(_votes(engine)) == 7


def test_rerun_of_the_same_file_adds_nothing(engine: Engine) -> None:
    page = _page(DAY_FILE)
    _store(engine, page)
    before = (_meta(engine), _votes(engine))
    _store(engine, page, minutes=30)
    assert (_meta(engine), _votes(engine)) == before


def test_refetch_with_changed_upvotes_updates_latest_and_adds_one_observation(
    engine: Engine,
) -> None:
    """The same day fetched at 04:16Z (5 upvotes) and 06:15Z (7 upvotes), docs/hf-formats.md §2.8.

    The page text differs (13 papers vs 1), so this is not the 'unchanged' path; the next test
    covers a refetch whose text is byte-for-byte the same and only the counts moved.
    """
    _store(engine, _page(EARLY))
    with read_session(engine) as session:
        first = _with_meta(session, "2501.12273")
    _store(engine, _page(LATE), minutes=120)
    with read_session(engine) as session:
        paper = with_metadata(session=session, papers=[first])[0]
        history = vote_history(session=session, key=first.key)
    assert (first.upvotes, paper.upvotes) == (5, 7)
    assert [(u, c) for _d, u, c, _at in history] == [(5, 1), (7, 1)]
    assert history[0][3] < history[1][3]  # observed_at: the ingest that first saw the counts


def _paper(n: int, **kw: object) -> ParsedPaper:
    values: dict[str, object] = {"title": f"Paper {n}", "abstract": f"Abstract {n}.", "rank": n}
    values.update(kw)
    return ParsedPaper(arxiv_id=f"2607.{n:05d}", **values)  # type: ignore[arg-type]


def _day(day: date, *papers: ParsedPaper) -> Page:
    return Page("hf-api", f"api {day}", day, papers, content_hash(papers))


def test_counts_moving_under_unchanged_text_are_recorded(engine: Engine) -> None:
    """A refetch with the same text is an 'unchanged' page (no new edition), yet its counts
    are the news: they reach the store."""
    day = date(2026, 7, 9)
    morning = _day(day, _paper(1, upvotes=3, comments=0), _paper(2, upvotes=9, comments=1))
    evening = _day(day, _paper(1, upvotes=40, comments=2), _paper(2, upvotes=9, comments=1))
    assert morning.content_hash == evening.content_hash
    store_page(engine, morning, now=NOW)
    report = store_page(engine, evening, now=NOW + timedelta(hours=8))
    assert report.unchanged
    assert [(u, c) for _p, _d, u, c in _votes(engine)] == [(3, 0), (40, 2), (9, 1)]
    assert [row[:2] for row in _meta(engine)] == [(40, 2), (9, 1)]


def test_merge_is_order_independent(engine: Engine, tmp_path: Path) -> None:
    """Every order of these pages ends in the same latest values and history (SQLite here and
    a second store per order; the engine fixture adds PostgreSQL)."""
    d1, d2 = date(2026, 7, 9), date(2026, 7, 14)
    pages = [
        _day(d1, _paper(1, upvotes=5, comments=0, ai_summary="Old summary.",
                        github_repo="https://github.com/a/old")),
        _day(d1, _paper(1, upvotes=12, comments=1, github_stars=4,
                        project_page="https://b.example/")),
        _day(d2, _paper(1, upvotes=30, comments=1, ai_summary="New summary.",
                        github_repo="https://github.com/a/new", github_stars=2)),
        _day(d2, _paper(1, upvotes=20, comments=3, ai_summary="Another new summary.")),
    ]  # fmt: skip
    outcomes = set()
    for number, order in enumerate(itertools.permutations(pages)):
        if number % 5:  # 24 orders; 5 of them are plenty and keep PostgreSQL quick
            continue
        with engine.begin() as conn:
            for table in ("paper_votes", "paper_meta", "appearance", "paper_alias", "digest",
                          "paper"):  # fmt: skip
                conn.exec_driver_sql(f"DELETE FROM {table}")
        for page in order:
            store_page(engine, page, now=NOW)
        outcomes.add((tuple(_meta(engine)), tuple(v[1:] for v in _votes(engine))))
    assert len(outcomes) == 1
    (meta,), votes = next(iter(outcomes))
    (upvotes, comments, stars, summary, summary_day, repo, repo_day, page, page_day, hf) = meta
    assert (upvotes, comments, stars) == (30, 3, 4)  # largest seen
    # texts: the latest listing date that gave one; a tie on the date: the binary-greater value
    assert (summary, summary_day) == ("New summary.", d2)
    assert (repo, repo_day) == ("https://github.com/a/new", d2)
    assert (page, page_day, hf) == ("https://b.example/", d1, None)
    assert len(votes) == 4


def test_text_page_says_nothing_and_changes_nothing(engine: Engine) -> None:
    api = _day(date(2026, 7, 9), _paper(1, upvotes=5, comments=0, ai_summary="S."))
    text = _day(date(2026, 7, 10), ParsedPaper(title="Paper 1", abstract="Abstract 1.", rank=1))
    _store(engine, api, text)
    assert [row[:4] for row in _meta(engine)] == [(5, 0, None, "S.")]
    assert len(_votes(engine)) == 1


def test_paper_without_arxiv_id_keeps_its_hf_id(engine: Engine) -> None:
    paper = ParsedPaper(title="Not On arXiv", abstract="A.", rank=1, hf_id="hf-1", upvotes=2,
                        comments=0)  # fmt: skip
    _store(engine, _day(date(2026, 7, 9), paper))
    with read_session(engine) as session:
        stored = select_paper(session=session, ref="Not On arXiv")
        assert stored is not None
        found = with_metadata(session=session, papers=[stored])[0]
    assert (found.arxiv_id, found.hf_id, found.upvotes) == (None, "hf-1", 2)
    assert found.hf_url == "https://huggingface.co/papers/hf-1"


def test_edition_is_ranked_by_upvotes_then_page_rank(engine: Engine) -> None:
    day = date(2026, 7, 9)
    page = _day(
        day,
        _paper(1, upvotes=4, comments=0),
        _paper(2, upvotes=50, comments=0),
        _paper(3),  # no count: after every counted paper
        _paper(4, upvotes=50, comments=0),  # tie with 2: page rank decides
    )
    _store(engine, page)
    with read_session(engine) as session:
        edition = select_edition(session=session, day=day, topics=())
    assert [p.arxiv_id for p in edition.new] == ["2607.00002", "2607.00004", "2607.00001",
                                                  "2607.00003"]  # fmt: skip
    assert [p.upvotes for p in edition.new] == [50, 50, 4, None]


def test_rank_by_votes_keeps_order_of_ties() -> None:
    papers = [_stored("a", None), _stored("b", 3), _stored("c", 3), _stored("d", 9)]
    assert [p.key for p in rank_by_votes(papers)] == ["d", "b", "c", "a"]


def _stored(key: str, upvotes: int | None) -> StoredPaper:
    day = date(2026, 7, 9)
    return StoredPaper(key=key, title=key, abstract="", arxiv_id=None, links=(), first_seen=day,
                       last_seen=day, times_seen=1, upvotes=upvotes)  # fmt: skip


def test_history_count_query(engine: Engine) -> None:
    """paper_votes is small: one row per paper per distinct count, not per fetch."""
    page = _page(DAY_FILE)
    for minutes in range(0, 50, 10):
        _store(engine, page, minutes=minutes)
    with read_session(engine) as session:
        count = session.execute(select(func.count()).select_from(PaperVotes)).scalar_one()
    assert count == len(page.papers)


@pytest.mark.parametrize("path", [EARLY, LATE, DAY_FILE])
def test_integrity_holds_after_real_days(engine: Engine, path: Path) -> None:
    _store(engine, _page(path))
    with read_session(engine) as session:
        assert check_store(session=session) == []


@pytest.mark.parametrize("reverse", [False, True])
def test_same_day_tie_is_decided_byte_by_byte_on_both_dialects(
    engine: Engine, reverse: bool
) -> None:
    """PostgreSQL databases made with a locale collation sort 'Banana' after 'apple'; SQLite
    compares bytes. The merge compares bytes on both, so the stores agree (TEAM.md)."""
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            if not conn.exec_driver_sql(
                "SELECT 1 FROM pg_collation WHERE collname = 'und-x-icu'"
            ).first():
                pytest.skip("no ICU collation on this server")
            conn.exec_driver_sql(
                'ALTER TABLE paper_meta ALTER COLUMN ai_summary TYPE varchar COLLATE "und-x-icu"'
            )
    day = date(2026, 7, 9)
    pages = [_day(day, _paper(1, ai_summary="apple.")), _day(day, _paper(1, ai_summary="Banana."))]
    for page in reversed(pages) if reverse else pages:
        store_page(engine, page, now=NOW)
    assert _meta(engine)[0][3] == "apple."  # b"a" > b"B"


def test_check_store_finds_history_above_latest(engine: Engine) -> None:
    _store(engine, _day(date(2026, 7, 9), _paper(1, upvotes=5, comments=0)))
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE paper_meta SET upvotes = 2")
    with read_session(engine) as session:
        problems = check_store(session=session)
    assert len(problems) == 1
    assert problems[0].startswith("a paper's latest upvotes are at least every count")
