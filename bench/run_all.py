"""All benchmarks in one table, each figure next to a baseline measured in the same run.

Usage: python bench/run_all.py [--quick] [--postgres URL] [--sizes 10000,1000000]

Reuses bench_ingest, bench_feeds and bench_emails. Baselines: parse vs splitting the same text
into blocks; ingest vs raw DB-API executemany of the same rows (paper, alias, appearance) in one
transaction per page; feeds vs feedgen alone; emails vs jinja2 alone (one small template
rendered and encoded per subscriber). --quick: 10k papers, 10 pages, 5k subscribers (a smoke
run, about a minute). PostgreSQL is used when --postgres is given or 127.0.0.1:5432 answers
(database paperboy_bench, created if missing). Peak memory is the process's ru_maxrss.
"""

from __future__ import annotations

import argparse
import resource
import socket
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import jinja2
from bench_emails import bench_pure
from bench_feeds import measure_render
from bench_ingest import NOW, bench_ingest, bench_parse, page_text, title_of
from sqlalchemy import text

from pipeline.identity import title_key
from pipeline.store.engine import make_engine

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/paperboy_bench"


def parse_figures(pages: list[str]) -> tuple[float, float]:
    """(paperboy MB/s, baseline MB/s: split into blank-line blocks and strip)."""
    size = sum(len(p.encode()) for p in pages) / 1e6
    start = time.perf_counter()
    for body in pages:
        [block.strip() for block in body.split("\n\n")]
    floor = size / (time.perf_counter() - start)
    return bench_parse(pages), floor


def raw_ingest_ms(url: str, pages: int) -> float:
    """Median ms to insert one page's 50 papers + aliases + appearances by raw executemany."""
    engine = make_engine(url)
    raw = engine.raw_connection()
    marks = "?" if engine.dialect.name == "sqlite" else "%s"
    stamp = NOW.replace(tzinfo=None) if engine.dialect.name == "sqlite" else NOW
    times = []
    try:
        cur = raw.cursor()
        cur.execute("CREATE TEMP TABLE b_paper (key text, title text, abstract text, d date,"
                    " links text, created timestamp)")  # fmt: skip
        cur.execute("CREATE TEMP TABLE b_alias (alias text, paper int)")
        cur.execute("CREATE TEMP TABLE b_app (paper int, digest int, d date, rank int)")
        raw.commit()
        for p in range(pages):
            day = date(2026, 6, 1) + timedelta(p)
            nums = range(p * 50, p * 50 + 50)
            start = time.perf_counter()
            cur.executemany(
                f"INSERT INTO b_paper VALUES ({', '.join([marks] * 6)})",
                [(title_key(title_of(n)), title_of(n), "x", day, "[]", stamp) for n in nums],
            )
            cur.executemany(f"INSERT INTO b_alias VALUES ({marks}, {marks})",
                            [(title_key(title_of(n)), n) for n in nums])  # fmt: skip
            cur.executemany(f"INSERT INTO b_app VALUES ({', '.join([marks] * 4)})",
                            [(n, p, day, n % 50) for n in nums])  # fmt: skip
            raw.commit()
            times.append(time.perf_counter() - start)
    finally:
        raw.close()
        engine.dispose()
    return sorted(times)[len(times) // 2] * 1000


def jinja_alone_per_s(count: int) -> float:
    """Messages/s for jinja2 alone: one small template rendered and encoded per subscriber."""
    template = jinja2.Environment(autoescape=True).from_string(
        "To: {{ to }}\nSubject: {{ title }}\n\n{% for p in papers %}<h2>{{ p }}</h2>{% endfor %}"
        "<a href='https://example.org/u/{{ token }}'>unsubscribe</a>"
    )
    papers = [f"Paper {n}: a study of keyword{n % 20:02d}" for n in range(25)]
    start = time.perf_counter()
    for n in range(count):
        template.render(to=f"reader{n}@example.com", title="digest", papers=papers,
                        token=f"{n:032x}").encode()  # fmt: skip
    return count / (time.perf_counter() - start)


def postgres_url(given: str | None) -> str | None:
    """The benchmark database URL, creating the database if needed; None without a server."""
    if given:
        return given
    try:
        socket.create_connection(("127.0.0.1", 5432), timeout=0.5).close()
    except OSError:
        return None
    admin = make_engine(DEFAULT_PG.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.execute(
            text("SELECT 1 FROM pg_database WHERE datname='paperboy_bench'")
        ).first():
            conn.execute(text("CREATE DATABASE paperboy_bench"))
    admin.dispose()
    return DEFAULT_PG


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    parser.add_argument("--postgres", default=None, help=f"default {DEFAULT_PG} if reachable")
    parser.add_argument("--sizes", default=None, help="stored papers, e.g. 10000,1000000")
    args = parser.parse_args()
    sizes = [
        int(s) for s in (args.sizes or ("10000" if args.quick else "10000,1000000")).split(",")
    ]
    pages = 10 if args.quick else 40
    subscribers = 5_000 if args.quick else 100_000
    rows: list[tuple[str, str, str, str]] = []  # figure, value, baseline, ratio

    corpus = [page_text(date(2026, 3, 14), list(range(i * 60, i * 60 + 60))) for i in range(40)]
    ours, floor = parse_figures(corpus)
    rows.append(("parse text pages", f"{ours:.1f} MB/s", f"{floor:.0f} MB/s (split)",
                 f"{floor / ours:.1f}x slower"))  # fmt: skip

    databases = {"SQLite": None, "PostgreSQL": postgres_url(args.postgres)}
    for name, url in databases.items():
        if name == "PostgreSQL" and url is None:
            rows.append(("ingest on PostgreSQL", "skipped: no server at 127.0.0.1:5432", "", ""))
            continue
        with tempfile.TemporaryDirectory() as folder:
            base_url = url or f"sqlite:///{folder}/raw.db"
            raw_ms = raw_ingest_ms(base_url, pages)
            for size in sizes:
                got = bench_ingest(url, size, pages)
                rows.append((f"ingest 50-paper page, {size:,} stored, {name}",
                             f"{got['page_ms']:.1f} ms ({got['papers_per_s']:,.0f} papers/s)",
                             f"{raw_ms:.1f} ms raw executemany",
                             f"{got['page_ms'] / raw_ms:.1f}x"))  # fmt: skip

    feeds = measure_render()
    rows.append(("render 50 topics x 200 items, RSS + Atom", f"{feeds['render_s']:.2f} s",
                 f"{feeds['feedgen_s']:.2f} s feedgen alone",
                 f"{feeds['render_s'] / feeds['feedgen_s']:.2f}x"))  # fmt: skip

    mail = bench_pure(subscribers)
    floor_per_s = jinja_alone_per_s(subscribers)
    rows.append((f"email digests, {subscribers:,} subscribers",
                 f"{mail['messages_per_s']:,.0f} msg/s ({mail['topic_sets']:.0f} topic sets)",
                 f"{floor_per_s:,.0f} msg/s jinja2 alone",
                 f"{floor_per_s / mail['messages_per_s']:.1f}x slower"))  # fmt: skip
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rows.append(("peak memory (whole run, ru_maxrss)", f"{peak:.0f} MiB", "", ""))

    print("\n| figure | paperboy | baseline (same run) | ratio |\n|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
