"""Synthetic text pages and a bulk-seeded store of synthetic papers (short abstracts).

Used by bench/bench_assign.py (which imports them through bench_ingest). The ingest benchmarks
themselves use real pages and real papers (bench/bench_ingest.py, bench/ingest_stores.py).
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Engine

from pipeline.identity import title_key

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
