"""Benchmark: ingest cost at two store sizes, measured interleaved so machine load cancels out.

Usage: python bench/compare_stores.py SMALL_URL SMALL_SIZE LARGE_URL LARGE_SIZE [--pages 30]

Both stores must already be seeded by ``bench_ingest.seed`` (e.g. one run of bench_ingest.py,
or ``python -c 'from bench_ingest import seed; ...'``). Pages alternate between the two stores,
so a busy neighbour slows both alike; prints the medians and their ratio (target <= 1.5x).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_ingest import NOW, page_text

from pipeline.ingest.parse.text_page import parse_text_page
from pipeline.store.engine import make_engine, write_session
from pipeline.store.papers import upsert_page


def ingest_one(url_engine: object, size: int, number: int, rng: random.Random) -> float:
    """Seconds to ingest one fresh 50-paper page (34 new, 16 stored) into a seeded store."""
    base = 50_000_000 + number * 50 + int(time.time()) % 1_000_000 * 100
    day = date(2027, 1, 1) + timedelta(number)
    numbers = list(range(base, base + 34)) + rng.sample(range(size), 16)
    page = parse_text_page(page_text(day, numbers), origin=f"cmp-{base}", source=f"cmp{base}",
                           today=NOW.date())  # fmt: skip
    start = time.perf_counter()
    with write_session(url_engine) as session:  # type: ignore[arg-type]
        upsert_page(session=session, page=page, now=NOW)
    return time.perf_counter() - start


def compare(small: str, small_size: int, large: str, large_size: int, pages: int) -> float:
    """Print both medians and return the large/small ratio."""
    engines = {small_size: make_engine(small), large_size: make_engine(large)}
    times: dict[int, list[float]] = {small_size: [], large_size: []}
    rng = random.Random(3)
    for number in range(pages):
        for size, engine in engines.items():
            times[size].append(ingest_one(engine, size, number, rng))
    for engine in engines.values():
        engine.dispose()
    medians = {size: statistics.median(t) * 1000 for size, t in times.items()}
    for size, ms in medians.items():
        print(f"{engines[size].dialect.name}: store of {size:>9,} papers: median {ms:.1f} ms "
              f"per 50-paper page = {50_000 / ms:,.0f} papers/s")  # fmt: skip
    ratio = medians[large_size] / medians[small_size]
    print(f"ratio {large_size:,} vs {small_size:,} stored: {ratio:.2f}x (target <= 1.5x)")
    return ratio


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("small_url")
    parser.add_argument("small_size", type=int)
    parser.add_argument("large_url")
    parser.add_argument("large_size", type=int)
    parser.add_argument("--pages", type=int, default=30)
    args = parser.parse_args()
    compare(args.small_url, args.small_size, args.large_url, args.large_size, args.pages)


if __name__ == "__main__":
    main()
