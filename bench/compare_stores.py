"""Benchmark: one day's ingest into a store of 1M papers against the same into 10k, interleaved.

Usage: PYTHONPATH=. python bench/compare_stores.py [--sizes 10000,1000000] [--pages 40]
       [--archive DIR] [--postgres URL]

Two scratch stores (bench/ingest_stores.py: the product's migrations, then seeded with copies of
real papers, real-length abstracts; seeding is not timed) take the same sequence of day pages,
one ``store_page`` transaction each, as ``paperboy ingest`` stores a parsed page. Pages alternate
between the stores (which goes first alternates too), so a busy neighbour slows both alike. A
day page is a real API day (its papers new to both stores, later days repeating some) plus 16
papers already stored, picked at random over the whole store (a cold part of a big one). Prints
the median per page and the ratio (goal: at most 1.5x). PostgreSQL only with ``--postgres``.
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ingest_stores import NEWEST, NOW, scratch, seed, stored_copy
from sqlalchemy import Engine

from pipeline.records import Page, ParsedPaper
from pipeline.store.papers import store_page

RECURRING = 16  # papers of each day page that the store already holds


def day_page(
    day: Page, number: int, size: int, papers: list[ParsedPaper], rng: random.Random
) -> Page:
    """Day ``number`` for a store of ``size`` seeded papers: ``day``'s papers plus stored ones."""
    start = len(day.papers) + 1
    stored = [
        dataclasses.replace(stored_copy(papers, n), rank=start + i)
        for i, n in enumerate(rng.sample(range(size), RECURRING))
    ]
    return dataclasses.replace(
        day,
        source=f"day-{number}",
        origin=f"{day.origin}#{number}",
        listing_date=NEWEST + timedelta(days=1 + number),
        papers=(*day.papers, *stored),
        content_hash=f"{number}-{size}",
    )


def interleave(engines: dict[int, Engine], days: list[Page], papers: list[ParsedPaper],
               pages: int) -> dict[int, list[float]]:  # fmt: skip
    """Seconds per day page for each store size, pages alternating between the stores."""
    rng = random.Random(3)
    times: dict[int, list[float]] = {size: [] for size in engines}
    sizes = list(engines)
    for number in range(pages):
        day = days[number % len(days)]
        built = {size: day_page(day, number, size, papers, rng) for size in sizes}
        for size in sizes if number % 2 == 0 else sizes[::-1]:
            start = time.perf_counter()
            store_page(engines[size], built[size], now=NOW)
            times[size].append(time.perf_counter() - start)
    return times


def measure(sizes: tuple[int, int], days: list[Page], papers: list[ParsedPaper], pages: int,
            postgres: str | None) -> dict[str, float]:  # fmt: skip
    """Median ms per day page in the small and the large store, and the seconds seeding took."""
    with scratch(postgres) as stores:
        engines, seeded = {}, {}
        for size in sizes:
            engines[size] = stores.new(f"s{size}")
            seeded[size] = seed(engines[size], size, papers)
        times = interleave(engines, days, papers, pages)
        for engine in engines.values():
            engine.dispose()
    small, large = sizes
    return {
        "small_ms": statistics.median(times[small]) * 1000,
        "large_ms": statistics.median(times[large]) * 1000,
        "seed_small_s": seeded[small],
        "seed_large_s": seeded[large],
        "papers_per_page": statistics.mean(len(d.papers) + RECURRING for d in days),
    }


def main() -> None:
    from bench_ingest import SHIPPED, load_pages, shipped_or
    from feeds_store import real_papers

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,1000000")
    parser.add_argument("--pages", type=int, default=40)
    parser.add_argument("--archive", type=Path, default=None, help="real API days (else shipped)")
    parser.add_argument("--postgres", default=None, metavar="URL", help="a PostgreSQL server")
    args = parser.parse_args()
    small, large = (int(s) for s in args.sizes.split(","))
    folder = shipped_or(args.archive)
    days = [day for day in load_pages(folder) if len(day.papers) >= 5]
    papers = real_papers(None if folder == SHIPPED else folder)
    got = measure((small, large), days, papers, args.pages, args.postgres)
    name = "PostgreSQL" if args.postgres else "SQLite"
    print(f"{name}: seeded {small:,} in {got['seed_small_s']:.1f} s, {large:,} in "
          f"{got['seed_large_s']:.1f} s; {args.pages} day pages of {got['papers_per_page']:.0f} "
          f"papers on average: median {got['small_ms']:.1f} ms with {small:,} stored, "
          f"{got['large_ms']:.1f} ms with {large:,}: {got['large_ms'] / got['small_ms']:.2f}x "
          "(goal <= 1.5x)")  # fmt: skip


if __name__ == "__main__":
    main()
