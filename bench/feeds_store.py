"""Seeded stores for the feeds benchmark: real papers, replicated, assignments included.

Used by bench/bench_feeds.py. A store of N papers is N copies of the real papers of the saved
API days (titles, abstracts of real length, links, authors, keywords, upvotes, TL;DR, code and
project links; ``--archive`` or ``$PAPERBOY_HF_ARCHIVE``, else the days shipped in
tests/data/hf and the sample pages), 50 a
day, newest day first, one digest a day. Rows go in through DB-API ``executemany`` in the shape
paperboy writes them; each distinct text is scored once by the real engine
(:class:`pipeline.store.assignments.Scorer`) and its topics copied to every copy of it; the
topics' fingerprints are stamped as ``assign_pending`` stamps them. Seeding then checks itself:
``assign_pending`` must find nothing to do, and a sample of papers must carry exactly the topics
``assign_topics`` gives them. Papers get only their key as alias (title aliases would collide
between copies; they only matter to ingest).

The store file is kept (``--cache-dir``, default /tmp) and reused while its inputs are the same.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text

from pipeline.ingest.parse.hf_api import load_entries, parse_entries
from pipeline.ingest.parse.text_page import parse_text_page
from pipeline.records import ParsedPaper
from pipeline.store.assignments import (
    ASSIGNED_KEY,
    GENERATION_KEY,
    Scorer,
    assign_pending,
    fingerprints_of,
)
from pipeline.store.engine import init_db, make_engine, read_session
from pipeline.topics import Topic, assign_topics

REPO = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 11, 23, tzinfo=UTC)
NEWEST = date(2026, 11, 23)
PER_DAY = 50
SEED_VERSION = "6"  # bump when the seeded shape changes


def real_papers(archive: Path | None) -> list[ParsedPaper]:
    """Distinct real papers: every API day under ``archive`` (else the shipped fixtures)."""
    folders = [archive] if archive else [REPO / "tests" / "data" / "hf"]
    files = sorted(f for folder in folders for f in folder.rglob("*.json"))
    found: dict[str, ParsedPaper] = {}
    for path in files:
        try:
            entries = load_entries(path.read_text(), origin=str(path), listing_date=NEWEST,
                                   lenient=False)  # fmt: skip
            papers = parse_entries(entries, origin=str(path))
        except Exception:  # noqa: BLE001 (malformed days are skipped, as ingest would)
            continue
        for paper in papers:
            found.setdefault(paper.title, paper)
    if archive is None:
        for path in sorted((REPO / "examples" / "pages").glob("*.txt")):
            page = parse_text_page(path.read_text(), origin=str(path), source="s", today=NEWEST)
            for paper in page.papers:
                found.setdefault(paper.title, paper)
    return list(found.values())


@dataclass(frozen=True)
class Seeded:
    """A seeded store file and how long it took to make (0 when reused)."""

    url: str
    papers: int
    seconds: float
    distinct: int


def _digest(papers: list[ParsedPaper], topics: list[Topic], size: int) -> str:
    data = [SEED_VERSION, size, [p.title for p in papers], [t.slug for t in topics]]
    data.append(fingerprint_source(topics))
    return hashlib.sha256(json.dumps(data).encode()).hexdigest()[:12]


def fingerprint_source(topics: list[Topic]) -> str:
    """The rules' fingerprints (a store seeded under other rules is not reused)."""
    engine = make_engine("sqlite://")
    init_db(engine)
    with read_session(engine) as session:
        prints, _ = fingerprints_of(session, topics)
    engine.dispose()
    return json.dumps(prints, sort_keys=True)


def seeded_store(
    size: int, topics: list[Topic], papers: list[ParsedPaper], cache_dir: Path
) -> Seeded:
    """The store file of ``size`` papers (made now, or reused from ``cache_dir``)."""
    path = cache_dir / f"paperboy-bench-feeds-{size}-{_digest(papers, topics, size)}.db"
    url = f"sqlite:///{path}"
    if path.exists():
        return Seeded(url, size, 0.0, len(papers))
    partial = path.with_suffix(".partial")
    for leftover in cache_dir.glob(partial.name + "*"):
        leftover.unlink()
    start = time.perf_counter()
    engine = make_engine(f"sqlite:///{partial}")
    init_db(engine)
    _fill(engine, size, topics, papers)
    _check(engine, topics, papers)
    engine.dispose()
    os.replace(partial, path)
    return Seeded(url, size, time.perf_counter() - start, len(papers))


def _fill(engine: Engine, size: int, topics: list[Topic], papers: list[ParsedPaper]) -> None:
    scorer = Scorer(topics)
    slugs = [scorer.slugs(title=p.title, abstract=p.abstract, keywords=p.keywords) for p in papers]
    days = (size + PER_DAY - 1) // PER_DAY
    stamp = NOW.replace(tzinfo=None)
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()

        def put(table: str, columns: str, rows: list[tuple[Any, ...]]) -> None:
            marks = ", ".join(["?"] * (columns.count(",") + 1))
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows)

        put("digest", "id, source, listing_date, origin, content_hash, paper_count, ingested_at",
            [(d + 1, "seed", NEWEST - timedelta(d), "seed", "x", min(PER_DAY, size - d * PER_DAY),
              stamp) for d in range(days)])  # fmt: skip
        batch = 20_000
        for lo in range(0, size, batch):
            rows, aliases, appearances, assigned, meta = [], [], [], [], []
            for n in range(lo, min(size, lo + batch)):
                paper = papers[n % len(papers)]
                day = NEWEST - timedelta(n // PER_DAY)
                arxiv_id = f"{9000 + n // 100_000:04d}.{n % 100_000:05d}"
                key = f"arxiv:{arxiv_id}"
                rows.append((n + 1, key, arxiv_id, paper.title, paper.abstract, day,
                             json.dumps(sorted(paper.links)), json.dumps(list(paper.authors)),
                             json.dumps(list(paper.keywords)), day, day, 1, stamp))  # fmt: skip
                aliases.append((key, n + 1))
                appearances.append((n + 1, n // PER_DAY + 1, day, n % PER_DAY + 1))
                assigned += [(n + 1, slug, day, key) for slug in slugs[n % len(papers)]]
                meta.append((n + 1, paper.upvotes, paper.comments, paper.github_stars,
                             paper.ai_summary, day if paper.ai_summary else None,
                             paper.github_repo, day if paper.github_repo else None,
                             paper.project_page, day if paper.project_page else None))  # fmt: skip
            put("paper", "id, key, arxiv_id, title, abstract, text_date, links, authors, keywords,"
                " first_seen, last_seen, times_seen, created_at", rows)  # fmt: skip
            put("paper_alias", "alias, paper_id", aliases)
            put("appearance", "paper_id, digest_id, listing_date, rank", appearances)
            put("paper_topic", "paper_id, topic, first_seen, paper_key", assigned)
            put("paper_meta", "paper_id, upvotes, comments, github_stars, ai_summary,"
                " ai_summary_date, github_repo, github_repo_date, project_page,"
                " project_page_date", meta)  # fmt: skip
            raw.commit()
        # What assign_pending would leave: nothing pending, every topic stamped.
        cursor.execute("DELETE FROM topic_pending")
        prints = json.loads(fingerprint_source(topics))
        put("meta", "key, value", [(ASSIGNED_KEY, json.dumps(prints)), (GENERATION_KEY, "1")])
        cursor.execute("ANALYZE")
        raw.commit()
    finally:
        raw.close()


def _check(engine: Engine, topics: list[Topic], papers: list[ParsedPaper]) -> None:
    report = assign_pending(engine, topics)
    if report.changed:
        raise AssertionError(f"the seeded store was not current: {report}")
    by_title = {p.title: p for p in papers}
    with engine.connect() as conn:
        total = conn.execute(text("SELECT max(id) FROM paper")).scalar_one()
        for paper_id in random.Random(1).sample(range(1, total + 1), min(300, total)):
            title = conn.execute(text(f"SELECT title FROM paper WHERE id = {paper_id}")).scalar()
            found = conn.execute(text(f"SELECT topic FROM paper_topic WHERE paper_id = {paper_id}"))
            paper = by_title[title]
            expected = assign_topics(topics, title=paper.title, abstract=paper.abstract,
                                     keywords=paper.keywords)  # fmt: skip
            if set(found.scalars()) != set(expected):
                raise AssertionError(f"paper {paper_id}: stored topics differ from the rules")
