"""Benchmark: ingest of real pages against raw DB-API executemany of the same rows (issue 14).

Usage: PYTHONPATH=. python bench/bench_ingest.py [--quick] [--archive DIR] [--rounds N]
       [--postgres URL] [--parts ab]

(a) Real pages: the API days shipped in tests/data/hf (``--archive DIR`` or
``$PAPERBOY_HF_ARCHIVE``: every ``*.json`` under DIR, e.g. the shared archive of 84 days),
parsed before any timing, in date order. Each
page is stored by ``store_page`` in its own transaction, as ``paperboy ingest`` stores what it
parsed. The baseline writes the same rows paperboy ends up writing for that page (digest, paper,
paper_alias, appearance, paper_meta, paper_votes: new rows inserted, changed rows updated), found
beforehand by storing every page once into a reference store and comparing its tables before and
after each page; it sends them by raw DB-API ``executemany`` (one statement per table and kind,
keys and values precomputed), one ``BEGIN IMMEDIATE ... COMMIT`` per page, into a store made by
the product's own migrations, on a connection with paperboy's pragmas. Each round starts both
sides on fresh scratch stores (made outside the timer); pages alternate between the two sides,
and which goes first alternates too. Goal: at most 2x.

(b) One day's ingest with 1M papers stored against 10k (100k with ``--quick``), see
bench/compare_stores.py. Goal: at most 1.5x.

PostgreSQL only with ``--postgres URL`` (a server; the bench creates its own database
``paperboy_bench_ingest`` there and uses fresh schemas in it).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import figures as figure_table
from compare_stores import measure
from feeds_store import real_papers
from figures import Figure, at_most
from ingest_stores import NOW, Scratch, scratch
from sqlalchemy import Engine
from synthetic import page_text, seed  # noqa: F401 (bench/bench_assign.py imports them here)

from pipeline.ingest.parse import parse_saved_page
from pipeline.records import Page
from pipeline.store.papers import store_page

REPO = Path(__file__).resolve().parents[1]
SHIPPED = REPO / "tests" / "data" / "hf"
# The tables store_page writes (topic_pending is written by triggers, on both sides), in the
# order their rows may be inserted, with their primary keys.
TABLES = {
    "digest": "id",
    "paper": "id",
    "paper_alias": "alias",
    "appearance": "id",
    "paper_meta": "paper_id",
    "paper_votes": "id",
}
Plan = list[tuple[str, list[tuple[Any, ...]]]]  # (statement, rows) for one page


def shipped_or(archive: Path | None) -> Path:
    """``archive``, else ``$PAPERBOY_HF_ARCHIVE`` (as bench_feeds reads it), else the shipped."""
    if archive is not None:
        return archive
    named = os.environ.get("PAPERBOY_HF_ARCHIVE")
    return Path(named) if named else SHIPPED


def load_pages(folder: Path) -> list[Page]:
    """Every API day file under ``folder``, parsed (leniently, as ingest reads saved days), in
    date order."""
    pages = [
        parse_saved_page(path.read_text(encoding="utf-8"), origin=str(path), source="bench",
                         today=NOW.date(), listing_date=None)
        for path in sorted(folder.rglob("*.json"))
    ]  # fmt: skip
    return sorted(pages, key=lambda page: (page.listing_date, page.origin))


def _snapshot(cursor: Any) -> dict[str, tuple[list[str], dict[Any, tuple[Any, ...]]]]:
    found = {}
    for table, key in TABLES.items():
        cursor.execute(f"SELECT * FROM {table}")
        columns = [d[0] for d in cursor.description]
        at = columns.index(key)
        found[table] = (columns, {row[at]: tuple(row) for row in cursor.fetchall()})
    return found


def _value(value: Any, dialect: str) -> Any:
    if dialect == "postgresql" and isinstance(value, list | dict):
        from psycopg.types.json import Json

        return Json(value)
    return value


def plans(engine: Engine, pages: list[Page]) -> list[Plan]:
    """Store every page into ``engine`` (an empty store) by paperboy; per page, the inserts and
    updates it made, as raw statements and rows."""
    dialect = engine.dialect.name
    mark = "?" if dialect == "sqlite" else "%s"
    raw = engine.raw_connection()
    cursor = raw.cursor()
    result = []
    before = _snapshot(cursor)
    raw.commit()
    for page in pages:
        store_page(engine, page, now=NOW)
        after = _snapshot(cursor)
        raw.commit()
        plan: Plan = []
        for table, key in TABLES.items():
            columns, rows = after[table]
            old = before[table][1]
            fresh = [tuple(_value(v, dialect) for v in row)
                     for pk, row in rows.items() if pk not in old]  # fmt: skip
            if fresh:
                marks = ", ".join([mark] * len(columns))
                plan.append((f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", fresh))
            others = [c for c in columns if c != key]
            changed = [
                (*(_value(v, dialect) for c, v in zip(columns, row, strict=True) if c != key), pk)
                for pk, row in rows.items()
                if pk in old and old[pk] != row
            ]
            if changed:
                sets = ", ".join(f"{c} = {mark}" for c in others)
                plan.append((f"UPDATE {table} SET {sets} WHERE {key} = {mark}", changed))
        result.append(plan)
        before = after
    raw.close()
    return result


def raw_writer(engine: Engine) -> tuple[Callable[[Plan], None], Callable[[], None]]:
    """A function sending one page's plan in one transaction on a raw DB-API connection, and
    the one closing that connection."""
    raw = engine.raw_connection()
    cursor = raw.cursor()
    sqlite = engine.dialect.name == "sqlite"

    def write(plan: Plan) -> None:
        if sqlite:
            cursor.execute("BEGIN IMMEDIATE")
        for statement, rows in plan:
            cursor.executemany(statement, rows)
        if sqlite:
            cursor.execute("COMMIT")
        else:
            raw.commit()

    return write, raw.close


def one_round(
    stores: Scratch, pages: list[Page], page_plans: list[Plan], number: int
) -> dict[str, float]:
    """Seconds for all pages: paperboy's store_page and the raw baseline, page by page."""
    ours, theirs = stores.new("paperboy"), stores.new("raw")
    write, close = raw_writer(theirs)
    took = {"paperboy": 0.0, "raw": 0.0}
    for index, (page, plan) in enumerate(zip(pages, page_plans, strict=True)):
        sides: list[tuple[str, Callable[[], object]]] = [
            ("paperboy", lambda page=page: store_page(ours, page, now=NOW)),
            ("raw", lambda plan=plan: write(plan)),
        ]
        for name, work in sides if (index + number) % 2 == 0 else sides[::-1]:
            start = time.perf_counter()
            work()
            took[name] += time.perf_counter() - start
    close()
    if number == 0:  # the baseline wrote what paperboy wrote, row for row
        same = [_rows_of(engine) for engine in (ours, theirs)]
        if same[0] != same[1]:
            raise AssertionError("the baseline's store differs from paperboy's")
    ours.dispose()
    theirs.dispose()
    return took


def _rows_of(engine: Engine) -> dict[str, Any]:
    raw = engine.raw_connection()
    try:
        return _snapshot(raw.cursor())
    finally:
        raw.close()


def real_pages_figure(pages: list[Page], rounds: int, postgres: str | None) -> Figure:
    """(a): store_page against raw executemany of the same rows, medians over rounds."""
    with scratch(postgres) as stores:
        reference = stores.new("reference")
        page_plans = plans(reference, pages)
        reference.dispose()
        results = [one_round(stores, pages, page_plans, number) for number in range(rounds)]
        dialect = "SQLite" if stores.dialect == "sqlite" else "PostgreSQL"
    ours = statistics.median(r["paperboy"] for r in results) / len(pages) * 1000
    raw = statistics.median(r["raw"] for r in results) / len(pages) * 1000
    entries = sum(len(page.papers) for page in pages)
    return at_most(
        f"ingest {len(pages)} real pages ({entries} entries), {dialect}, per page",
        f"{ours:.2f} ms", f"{raw:.2f} ms raw executemany, same rows and schema", ours / raw, 2.0,
    )  # fmt: skip


def sizes_figure(quick: bool, archive: Path | None, postgres: str | None) -> Figure:
    """(b): one day's ingest with 1M (100k quick) stored against 10k."""
    sizes = (10_000, 100_000 if quick else 1_000_000)
    folder = shipped_or(archive)
    days = [day for day in load_pages(folder) if len(day.papers) >= 5]
    papers = real_papers(None if folder == SHIPPED else folder)  # None: the sample pages too
    got = measure(sizes, days, papers, 20 if quick else 40, postgres)
    dialect = "PostgreSQL" if postgres else "SQLite"
    return at_most(
        f"one day's ingest, {sizes[1]:,} vs {sizes[0]:,} stored, {dialect}, per page",
        f"{got['large_ms']:.1f} ms ({sizes[1]:,})", f"{got['small_ms']:.1f} ms ({sizes[0]:,})",
        got["large_ms"] / got["small_ms"], 1.5,
    )  # fmt: skip


def figures(quick: bool, postgres: str | None, archive: Path | None = None,
            rounds: int | None = None, parts: str = "ab") -> list[Figure]:  # fmt: skip
    """run_all's rows: (a) and (b) on SQLite, and on PostgreSQL when ``postgres`` is given."""
    pages = load_pages(shipped_or(archive))
    rows = []
    for server in (None, postgres) if postgres else (None,):
        if "a" in parts:
            rows.append(real_pages_figure(pages, rounds or (3 if quick else 5), server))
        if "b" in parts:
            rows.append(sizes_figure(quick, archive, server))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="100k instead of 1M stored, fewer rounds"
    )
    parser.add_argument(
        "--archive", type=Path, default=None, help="real API days (default: shipped)"
    )
    parser.add_argument(
        "--rounds", type=int, default=None, help="rounds of (a) (default 5, quick 3)"
    )
    parser.add_argument("--postgres", default=None, metavar="URL",
                        help="also on this PostgreSQL server, in its own database")  # fmt: skip
    parser.add_argument("--parts", default="ab", help="a: real pages, b: store sizes")
    args = parser.parse_args()
    found = figures(args.quick, args.postgres, args.archive, args.rounds, args.parts)
    print(figure_table.table(found))


if __name__ == "__main__":
    main()
