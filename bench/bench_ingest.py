"""Benchmark: text-page parse speed (MB/s) and ingest speed (papers/s) at two store sizes.

Usage: python bench/bench_ingest.py [--sizes 10000,1000000] [--pages 40] [--database-url URL]

Generates pages in the saved-text format, seeds a store with N papers (bulk insert of the same
rows paperboy writes), then ingests fresh pages (50 papers each, a third of them already stored)
one transaction per page, as `paperboy ingest` does. Prints figures; the point is that the cost of
one page does not grow with the store.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import Engine, text

from pipeline.identity import title_key
from pipeline.ingest.parse.text_page import parse_text_page
from pipeline.store import tables
from pipeline.store.engine import init_db, make_engine, write_session
from pipeline.store.papers import upsert_page

NOW = datetime(2026, 11, 23, tzinfo=UTC)
WORDS = (
    "language model attention retrieval context long efficient sparse expert mixture benchmark "
    "survey multilingual translation embedding compression pruning decoding reasoning agent "
    "training data scaling inference token transformer vision speech alignment evaluation"
).split()


def title_of(n: int) -> str:
    rng = random.Random(n)
    return f"{' '.join(rng.choice(WORDS).title() for _ in range(7))} {n}"


def abstract_of(n: int) -> str:
    rng = random.Random(-n)
    body = " ".join(rng.choice(WORDS) for _ in range(180))
    return f"{body.capitalize()}. Code at https://github.com/example/repo-{n}."


def page_text(day: date, numbers: list[int]) -> str:
    head = "new\n\nSubscribe\n\nbyAK and the research community\n\n"
    blocks = "".join(f"{title_of(n)}\n\n{abstract_of(n)}\n\n" for n in numbers)
    return f"{head}{day:%b} {day.day}\n\n{blocks}"


def seed(engine: Engine, size: int) -> None:
    """Bulk-load `size` papers over 365 days (one digest per day) into an empty store.

    Rows go in through the DB-API's executemany (the fastest path each driver has), in the
    exact shape paperboy writes them.
    """
    start = date(2025, 1, 1)
    digests = [(d + 1, "seed", start + timedelta(d), "seed", "x", 0, NOW) for d in range(365)]
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        marks = "?" if engine.dialect.name == "sqlite" else "%s"

        def put(table: str, columns: str, rows: list[tuple[object, ...]]) -> None:
            values = ", ".join([marks] * (columns.count(",") + 1))
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({values})", rows)

        stamp = NOW.replace(tzinfo=None) if engine.dialect.name == "sqlite" else NOW
        put("digest", "id, source, listing_date, origin, content_hash, paper_count, ingested_at",
            [(*d[:6], stamp) for d in digests])  # fmt: skip
        batch = 50_000
        for lo in range(0, size, batch):
            papers, aliases, appearances = [], [], []
            for n in range(lo, min(size, lo + batch)):
                day = start + timedelta(n % 365)
                title = title_of(n)
                key = title_key(title)
                papers.append((n + 1, key, title, "x", day, "[]", "[]", "[]", day, day, 1, stamp))
                aliases.append((key, n + 1))
                appearances.append((n + 1, n % 365 + 1, day, 1))
            put("paper", "id, key, title, abstract, text_date, links, authors, keywords,"
                " first_seen, last_seen, times_seen, created_at", papers)  # fmt: skip
            put("paper_alias", "alias, paper_id", aliases)
            put("appearance", "paper_id, digest_id, listing_date, rank", appearances)
            raw.commit()
        if engine.dialect.name == "postgresql":
            for table in ("paper", "digest", "appearance"):
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                    f" (SELECT max(id) FROM {table}))"
                )
            cursor.execute("ANALYZE")
        else:
            cursor.execute("ANALYZE")
        raw.commit()
    finally:
        raw.close()


def bench_parse(pages: list[str]) -> float:
    size = sum(len(p.encode()) for p in pages)
    start = time.perf_counter()
    for index, body in enumerate(pages):
        parse_text_page(body, origin=f"p{index}", source="bench", today=NOW.date())
    return size / 1e6 / (time.perf_counter() - start)


def bench_ingest(url: str | None, size: int, pages: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(url or f"sqlite:///{folder}/bench.db")
        if url:  # start from an empty store: drop every table and the migration stamp
            tables.metadata.drop_all(engine)
            with engine.begin() as conn:
                conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
        init_db(engine)
        started = time.perf_counter()
        seed(engine, size)
        seeded = time.perf_counter() - started
        rng = random.Random(size)
        times = []
        for p in range(pages):
            fresh = list(range(size + p * 50, size + p * 50 + 34))
            known = rng.sample(range(size), 16)
            day = date(2026, 6, 1) + timedelta(p)
            page = parse_text_page(page_text(day, fresh + known), origin=f"bench-{p}",
                                   source="bench", today=NOW.date())  # fmt: skip
            start = time.perf_counter()
            with write_session(engine) as session:
                report = upsert_page(session=session, page=page, now=NOW)
            times.append(time.perf_counter() - start)
            assert (report.new, report.recurring) == (34, 16), report
        engine.dispose()
    median = statistics.median(times)
    return {"seed_s": seeded, "page_ms": median * 1000, "papers_per_s": 50 / median}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,1000000")
    parser.add_argument("--pages", type=int, default=40)
    parser.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    args = parser.parse_args()
    pages = [page_text(date(2026, 3, 14), list(range(i * 60, i * 60 + 60))) for i in range(40)]
    mb_s = bench_parse(pages)
    print(f"parse: {mb_s:.1f} MB/s over {sum(len(p) for p in pages) / 1e6:.1f} MB of text pages")
    results = {}
    for size in (int(s) for s in args.sizes.split(",")):
        result = bench_ingest(args.database_url, size, args.pages)
        results[size] = result
        print(f"store of {size:>9,} papers: seeded in {result['seed_s']:.1f} s; ingest one "
              f"50-paper page: median {result['page_ms']:.1f} ms = "
              f"{result['papers_per_s']:,.0f} papers/s")  # fmt: skip
    sizes = sorted(results)
    if len(sizes) > 1:
        ratio = results[sizes[-1]]["page_ms"] / results[sizes[0]]["page_ms"]
        print(f"cost ratio {sizes[-1]:,} vs {sizes[0]:,} stored: {ratio:.2f}x (target <= 1.5x)")
    print(json.dumps({"parse_mb_s": mb_s, "ingest": results}))


if __name__ == "__main__":
    main()
