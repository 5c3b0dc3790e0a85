"""Scratch stores for the ingest benchmarks, and stores seeded with many real papers.

Used by bench/bench_ingest.py and bench/compare_stores.py. A scratch store is made by the
product's own migrations (``init_db``): a SQLite file in a temporary folder, or, only when a
PostgreSQL server URL is given, a schema of the database ``paperboy_bench_ingest`` that the
bench creates on that server itself (and drops at the end); nothing else there is touched.

A seeded store holds N copies of real papers (real titles made distinct, real abstracts: about
1,200 characters on average, links, authors, keywords, upvotes), 50 a day, newest day first,
one digest a day, each paper with its arXiv and title aliases, its appearance, its community
values and one vote observation. Rows go in as paperboy writes them but through DB-API
``executemany`` (COPY on PostgreSQL), with the topic-pending triggers dropped meanwhile and put
back after; then ANALYZE.
"""

from __future__ import annotations

import itertools
import json
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, make_url, text

from pipeline.identity import title_key
from pipeline.records import ParsedPaper
from pipeline.store.engine import CACHE_KIB, init_db, make_engine
from pipeline.store.tables import PENDING_TRIGGERS

DATABASE = "paperboy_bench_ingest"
NOW = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
NEWEST = date(2026, 11, 23)  # the seeded papers' newest day; measured pages come after it
PER_DAY = 50
_TRIGGERED = {"paper": ("insert", "update", "delete"), "appearance": ("insert", "update", "delete"),
              "paper_meta": ("insert", "update", "delete")}  # fmt: skip


class Scratch:
    """Makes fresh, migrated stores (see the module doc) and removes them on :meth:`close`."""

    def __init__(self, postgres: str | None) -> None:
        self._folder = tempfile.TemporaryDirectory(prefix="paperboy-bench-ingest-")
        self._numbers = itertools.count(1)
        self._database: str | None = None
        self._schemas: list[str] = []
        if postgres:
            admin = make_engine(postgres, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                exists = conn.execute(
                    text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": DATABASE}
                ).first()
                if not exists:
                    conn.execute(text(f'CREATE DATABASE "{DATABASE}"'))
            admin.dispose()
            self._database = (
                make_url(postgres).set(database=DATABASE).render_as_string(hide_password=False)
            )

    @property
    def dialect(self) -> str:
        return "sqlite" if self._database is None else "postgresql"

    def new(self, name: str) -> Engine:
        """A fresh migrated store (engine); ``name`` only makes it recognisable."""
        number = next(self._numbers)
        if self._database is None:
            url = f"sqlite:///{Path(self._folder.name) / f'{name}-{number}.db'}"
        else:
            schema = f"bench_{name}_{number}".replace("-", "_")
            admin = make_engine(self._database, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
                conn.execute(text(f"CREATE SCHEMA {schema}"))
            admin.dispose()
            self._schemas.append(schema)
            options = {"options": f"-csearch_path={schema}"}
            url = make_url(self._database).update_query_dict(options).render_as_string(False)
        engine = make_engine(url)
        init_db(engine)
        return engine

    def close(self) -> None:
        if self._database is not None and self._schemas:
            admin = make_engine(self._database, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                for schema in self._schemas:
                    conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
            admin.dispose()
        self._folder.cleanup()


@contextmanager
def scratch(postgres: str | None) -> Iterator[Scratch]:
    made = Scratch(postgres)
    try:
        yield made
    finally:
        made.close()


def stored_copy(papers: list[ParsedPaper], n: int) -> ParsedPaper:
    """The ``n``-th seeded paper as a page would list it again (same id, title and text)."""
    paper = papers[n % len(papers)]
    return ParsedPaper(
        title=f"{paper.title} (copy {n})",  # a title key of its own
        abstract=paper.abstract,
        rank=1,
        arxiv_id=f"{9000 + n // 100_000:04d}.{n % 100_000:05d}",
        links=paper.links,
        authors=paper.authors,
        keywords=paper.keywords,
        upvotes=paper.upvotes,
        comments=paper.comments,
        ai_summary=paper.ai_summary,
        github_repo=paper.github_repo,
        github_stars=paper.github_stars,
        project_page=paper.project_page,
    )


def _rows(papers: list[ParsedPaper], lo: int, hi: int, sqlite: bool) -> dict[str, list[Any]]:
    def day_value(day: date) -> Any:
        return day.isoformat() if sqlite else day

    stamp: Any = NOW.replace(tzinfo=None).isoformat(" ", "microseconds") if sqlite else NOW
    rows: dict[str, list[Any]] = {name: [] for name in ("paper", "paper_alias", "appearance",
                                                       "paper_meta", "paper_votes")}  # fmt: skip
    for n in range(lo, hi):
        copy = stored_copy(papers, n)
        day = day_value(NEWEST - timedelta(n // PER_DAY))
        key = f"arxiv:{copy.arxiv_id}"
        rows["paper"].append((n + 1, key, copy.arxiv_id, copy.title, copy.abstract, day,
                              json.dumps(sorted(copy.links)), json.dumps(list(copy.authors)),
                              json.dumps(list(copy.keywords)), day, day, 1, stamp))  # fmt: skip
        rows["paper_alias"] += [(key, n + 1), (title_key(copy.title), n + 1)]
        rows["appearance"].append((n + 1, n // PER_DAY + 1, day, n % PER_DAY + 1))
        texts = (copy.ai_summary, copy.github_repo, copy.project_page)
        dated = [value for text in texts for value in (text, day if text else None)]
        rows["paper_meta"].append((n + 1, copy.upvotes, copy.comments, copy.github_stars, *dated))
        if copy.upvotes is not None and copy.comments is not None:
            rows["paper_votes"].append((n + 1, day, copy.upvotes, copy.comments, stamp))
    return rows


COLUMNS = {
    "digest": "id, source, listing_date, origin, content_hash, paper_count, ingested_at",
    "paper": "id, key, arxiv_id, title, abstract, text_date, links, authors, keywords,"
    " first_seen, last_seen, times_seen, created_at",
    "paper_alias": "alias, paper_id",
    "appearance": "paper_id, digest_id, listing_date, rank",
    "paper_meta": "paper_id, upvotes, comments, github_stars, ai_summary, ai_summary_date,"
    " github_repo, github_repo_date, project_page, project_page_date",
    "paper_votes": "paper_id, listing_date, upvotes, comments, observed_at",
}


def _drop_triggers(cursor: Any, dialect: str) -> None:
    for table, operations in _TRIGGERED.items():
        if dialect == "sqlite":
            for op in operations:
                cursor.execute(f"DROP TRIGGER IF EXISTS topic_pending_{table}_{op}")
        else:
            cursor.execute(f"DROP TRIGGER IF EXISTS topic_pending_{table} ON {table}")


def seed(engine: Engine, size: int, papers: list[ParsedPaper]) -> float:
    """Fill an empty migrated store with ``size`` seeded papers; returns the seconds it took."""
    start = time.perf_counter()
    dialect = engine.dialect.name
    sqlite = dialect == "sqlite"
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        if sqlite:  # no fsync while seeding (a crash only loses a scratch store)
            cursor.execute("PRAGMA synchronous = OFF")
            cursor.execute("PRAGMA cache_size = -2000000")  # 2 GB: random index inserts
        _drop_triggers(cursor, dialect)
        days = (size + PER_DAY - 1) // PER_DAY
        stamp: Any = NOW.replace(tzinfo=None).isoformat(" ", "microseconds") if sqlite else NOW
        dates = [NEWEST - timedelta(d) for d in range(days)]
        digests = [
            (d + 1, "seed", day.isoformat() if sqlite else day, "seed", "x",
             min(PER_DAY, size - d * PER_DAY), stamp)
            for d, day in enumerate(dates)
        ]  # fmt: skip
        step = 50_000
        papers_rows = (
            _rows(papers, lo, min(size, lo + step), sqlite) for lo in range(0, size, step)
        )
        for batch in itertools.chain([{"digest": digests}], papers_rows):
            for table, rows in batch.items():
                _put(cursor, raw, table, rows, sqlite)
            raw.commit()
        for statement in PENDING_TRIGGERS[dialect]:
            cursor.execute(statement)
        if not sqlite:
            for table in ("paper", "digest", "appearance", "paper_votes"):
                cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                               f" (SELECT max(id) FROM {table}))")  # fmt: skip
        raw.commit()
        if not sqlite:
            raw.driver_connection.autocommit = True  # type: ignore[union-attr]
        cursor.execute("ANALYZE")
        if not sqlite:
            raw.driver_connection.autocommit = False  # type: ignore[union-attr]
        raw.commit()
        if sqlite:
            cursor.execute("PRAGMA synchronous = NORMAL")  # as make_engine sets them
            cursor.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
    finally:
        raw.close()
    return time.perf_counter() - start


def _put(cursor: Any, raw: Any, table: str, rows: list[Any], sqlite: bool) -> None:
    columns = COLUMNS[table]
    if sqlite:
        marks = ", ".join(["?"] * (columns.count(",") + 1))
        cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows)
        return
    with (
        raw.driver_connection.cursor() as pg,
        pg.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(row)
