"""Topic assignment at ingest (issue 12): what the pending triggers add to an ingest, what
assigning a day's papers costs, a rule edit, and like topics (corpus statistics kept in the
store vs counted on every run).

Run from the repository root:
    PYTHONPATH=. python bench/bench_assign.py [--pages 30] [--postgres URL] [--archive DIR]
(prints figures; docs/benchmarks.md quotes them). Interleaved: each page goes into the store
with triggers and the one without, in alternating order.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import Engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_ingest import NOW, page_text, seed
from feeds_store import real_papers, seeded_store

from pipeline.ingest.parse.text_page import parse_text_page
from pipeline.records import ParsedPaper
from pipeline.similarity import corpus_stats, paper_text
from pipeline.store import tables
from pipeline.store.assignments import assign_pending, reset_assignments
from pipeline.store.engine import init_db, make_engine, write_session
from pipeline.store.papers import upsert_page
from pipeline.topics import Topic, load_topics, parse_topics, topics_file

DROP = {
    "sqlite": [
        f"DROP TRIGGER topic_pending_{t}_{op}"
        for t in ("paper", "appearance")
        for op in ("insert", "update", "delete")
    ],
    "postgresql": [
        "DROP TRIGGER topic_pending_paper ON paper",
        "DROP TRIGGER topic_pending_appearance ON appearance",
    ],
}


def _store(url: str, size: int, *, triggers: bool) -> Engine:
    engine = make_engine(url)
    if engine.dialect.name == "postgresql":
        tables.metadata.drop_all(engine)
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    init_db(engine)
    seed(engine, size)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM topic_pending"))
        for statement in [] if triggers else DROP[engine.dialect.name]:
            conn.execute(text(statement))
    return engine


def bench_triggers(with_url: str, without_url: str, pages: int, size: int = 10_000) -> None:
    """Ingest the same 50-paper pages (34 new, 16 stored) into two stores, interleaved."""
    stores = {"triggers": _store(with_url, size, triggers=True),
              "none": _store(without_url, size, triggers=False)}  # fmt: skip
    times: dict[str, list[float]] = {name: [] for name in stores}
    assign: list[float] = []
    topics = load_topics(topics_file(None))
    assign_pending(stores["triggers"], topics)  # the seeded store: a first, full assignment
    for p in range(pages):
        fresh = list(range(size + p * 50, size + p * 50 + 34))
        known = list(range(p * 16, p * 16 + 16))
        day = date(2026, 6, 1) + timedelta(p)
        page = parse_text_page(page_text(day, fresh + known), origin=f"b{p}", source="bench",
                               today=NOW.date())  # fmt: skip
        order = list(stores) if p % 2 else list(reversed(stores))
        for name in order:
            start = time.perf_counter()
            with write_session(stores[name]) as session:
                upsert_page(session=session, page=page, now=NOW)
            times[name].append(time.perf_counter() - start)
        start = time.perf_counter()
        report = assign_pending(stores["triggers"], topics)
        assign.append(time.perf_counter() - start)
        assert report.papers == 50, report
    ratios = sorted(a / b for a, b in zip(times["triggers"], times["none"], strict=True))
    name = stores["triggers"].dialect.name
    print(f"{name}: ingest a 50-paper page into {size:,} papers: with triggers "
          f"{_ms(times['triggers'])}, without {_ms(times['none'])}; ratio "
          f"{statistics.median(ratios):.3f}x ({ratios[len(ratios) // 4]:.3f}-"
          f"{ratios[3 * len(ratios) // 4]:.3f}); assigning the page's 50 papers after it: "
          f"{_ms(assign)}")  # fmt: skip
    for engine in stores.values():
        engine.dispose()


def _ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:.1f} ms"


def _timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def bench_rules_and_like(store: Path, topics: list[Topic], papers: list[ParsedPaper]) -> None:
    """On a copy of a seeded store of real papers: edit one topic, then every topic; add a
    like topic (corpus statistics built once, then kept); assign new papers with it."""
    with tempfile.TemporaryDirectory() as folder:
        copy = Path(folder) / "store.db"
        shutil.copy(store, copy)
        engine = make_engine(f"sqlite:///{copy}")
        init_db(engine)
        count = engine.connect().execute(text("SELECT count(*) FROM paper")).scalar_one()
        edited = [*topics]
        edited[0] = parse_topics({"topics": [{"slug": topics[0].slug, "include": [
            "long context", "KV cache", "memory"]}]}, origin="edit")[0]  # fmt: skip
        one = _timed(lambda: assign_pending(engine, edited))
        reset_assignments(engine)
        every = _timed(lambda: assign_pending(engine, edited))
        print(f"rule edit on {count:,} papers: one topic reassigned in {one:.1f} s "
              f"({1e6 * one / count:.0f} us a paper); every topic ({len(edited)}) in "
              f"{every:.1f} s ({1e6 * every / count:.0f} us a paper)")  # fmt: skip
        like = parse_topics({"topics": [{"slug": "gui", "like": [
            "UI-TARS: Pioneering Automated GUI Interaction with Native Agents"]}]},
            origin="like")  # fmt: skip
        with_like = [*edited, *like]
        reports = []
        build = _timed(lambda: reports.append(assign_pending(engine, with_like)))
        print(f"a like topic added: corpus statistics of {reports[0].corpus:,} papers counted "
              f"and the topic assigned over every paper in {build:.1f} s")  # fmt: skip
        texts = [paper_text(p.title, p.abstract) for p in papers]
        in_memory = _timed(lambda: corpus_stats(texts * max(1, count // len(texts))))
        print(f"counting the same statistics in memory instead (what each run would pay "
              f"without the table): {in_memory:.1f} s")  # fmt: skip
        with write_session(engine) as session:  # 300 papers change: with the like topic
            for step in ("+ 1", "- 1"):  # a change and its undo: triggers mark changed rows
                session.execute(text(f"UPDATE paper SET times_seen = times_seen {step} WHERE id % "
                                     f"{max(1, count // 300)} = 0"))  # fmt: skip
        start = time.perf_counter()
        report = assign_pending(engine, with_like)
        took = time.perf_counter() - start
        print(f"assigning {report.papers} changed papers with the like topic: "
              f"{1000 * took / report.papers:.2f} ms a paper")  # fmt: skip
        engine.dispose()


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=30)
    parser.add_argument("--postgres", help="a database URL to measure PostgreSQL too")
    parser.add_argument("--archive", type=Path, default=os.environ.get("PAPERBOY_HF_ARCHIVE"))
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument("--cache-dir", type=Path, default=Path(tempfile.gettempdir()))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        bench_triggers(f"sqlite:///{folder}/a.db", f"sqlite:///{folder}/b.db", args.pages)
    if args.postgres:
        from sqlalchemy.engine import make_url

        base = make_url(args.postgres)
        urls = [base.update_query_dict({"options": f"-csearch_path={s}"}) for s in ("ba", "bb")]
        admin = make_engine(args.postgres, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            for schema in ("ba", "bb"):
                conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
                conn.execute(text(f"CREATE SCHEMA {schema}"))
        bench_triggers(*(u.render_as_string(hide_password=False) for u in urls), args.pages)
        with admin.connect() as conn:
            for schema in ("ba", "bb"):
                conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()
    topics = [*load_topics(topics_file(None))]
    papers = real_papers(args.archive)
    seeded = seeded_store(args.size, topics, papers, args.cache_dir)
    bench_rules_and_like(Path(seeded.url.removeprefix("sqlite:///")), topics, papers)


if __name__ == "__main__":
    main()
