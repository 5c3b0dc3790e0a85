"""What keeping the community's metadata costs: ingest, refetch, feed collection (issue 13).

Run: PYTHONPATH=. python bench/bench_metadata.py [--archive DIR] [--rounds N]
DIR holds the real API day files (default: $PAPERBOY_HF_ARCHIVE, else the subset shipped in
tests/data/hf/archive/). Each round stores every day in a fresh SQLite file twice, with and
without ``upsert_metadata`` (the baseline), interleaved so machine noise hits both alike; then
stores every day again with changed upvotes (the text unchanged: before this change such a
refetch did nearly nothing) and collects the feeds with and without ``with_metadata``.
Prints medians (per page: robust to load spikes on a shared machine) and ratios.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine

import pipeline.feeds.publish as publish
import pipeline.store.papers as papers
from pipeline.feeds.publish import collect_feeds
from pipeline.ingest.parse import parse_saved_page
from pipeline.records import Page
from pipeline.store.engine import init_db, make_engine
from pipeline.topics import load_topics, topics_file

SHIPPED_ARCHIVE = Path(__file__).resolve().parents[1] / "tests" / "data" / "hf" / "archive"
NOW = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)


def load_pages(archive: Path) -> list[Page]:
    """Every day file under ``archive`` (the collector's defects read leniently)."""
    return [
        parse_saved_page(path.read_text(encoding="utf-8"), origin=str(path), source="bench",
                         today=NOW.date(), listing_date=None)
        for path in sorted(archive.rglob("*.json"))
    ]  # fmt: skip


def bumped(page: Page) -> Page:
    """The same page fetched later: more upvotes and comments, the same text."""
    more = tuple(
        dataclasses.replace(p, upvotes=(p.upvotes or 0) + 5, comments=(p.comments or 0) + 1)
        for p in page.papers
    )
    return dataclasses.replace(page, papers=more)


@contextmanager
def without(module: object, name: str, stand_in: Callable[..., object]) -> Iterator[None]:
    """``module.name`` replaced by ``stand_in`` (the baseline without the new work)."""
    kept = getattr(module, name)
    setattr(module, name, stand_in)
    try:
        yield
    finally:
        setattr(module, name, kept)


def timed(work: Callable[[], object]) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def store_all(engine: Engine, pages: list[Page]) -> list[float]:
    """Store every page, one transaction each; the seconds each took."""
    return [timed(lambda page=page: papers.store_page(engine, page, now=NOW)) for page in pages]


def one_round(pages: list[Page], folder: Path, number: int) -> dict[str, list[float]]:
    """Seconds per page (ingest, refetch) and per collection (feeds), fresh stores."""
    figures: dict[str, list[float]] = {}
    engines = {}
    for label in ("with", "baseline") if number % 2 else ("baseline", "with"):
        engine = make_engine(f"sqlite:///{folder / f'{label}-{number}.db'}")
        init_db(engine)
        engines[label] = engine
        if label == "baseline":
            with without(papers, "upsert_metadata", lambda **_kw: 0):
                figures["ingest baseline"] = store_all(engine, pages)
                figures["refetch baseline"] = store_all(engine, refetched)
        else:
            figures["ingest with metadata"] = store_all(engine, pages)
            figures["refetch with metadata"] = store_all(engine, refetched)
    topics = load_topics(topics_file(None))

    def collect() -> None:
        collect_feeds(engines["with"], topics=topics, site_url="https://x.org/", title="b",
                      limit=100, tagging_entity="x.org,2026-01-01")  # fmt: skip

    figures["feeds with metadata"], figures["feeds baseline"] = [], []
    for turn in range(4):  # alternate which goes first (caches warm up for the second)
        for label in ("with metadata", "baseline") if turn % 2 else ("baseline", "with metadata"):
            if label == "baseline":
                with without(publish, "with_metadata", lambda **kw: list(kw["papers"])):
                    figures["feeds baseline"].append(timed(collect))
            else:
                figures["feeds with metadata"].append(timed(collect))
    for engine in engines.values():
        engine.dispose()
    return figures


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--archive",
        type=Path,
        default=Path(os.environ.get("PAPERBOY_HF_ARCHIVE") or SHIPPED_ARCHIVE),
    )
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()  # fmt: skip
    pages = load_pages(args.archive)
    global refetched
    refetched = [bumped(page) for page in pages]
    entries = sum(len(page.papers) for page in pages)
    rounds: list[dict[str, list[float]]] = []
    with tempfile.TemporaryDirectory() as folder:
        for number in range(args.rounds):
            rounds.append(one_round(pages, Path(folder), number))
    median = {name: statistics.median(t for r in rounds for t in r[name]) for name in rounds[0]}
    print(f"{len(pages)} day files, {entries} entries, {args.rounds} rounds; medians per page "
          "(ingest, refetch) and per collection of all feeds (feeds)")  # fmt: skip
    for what in ("ingest", "refetch", "feeds"):
        new, base = median[f"{what} with metadata"], median[f"{what} baseline"]
        print(f"{what:8} with metadata {new * 1000:8.2f} ms   baseline {base * 1000:8.2f} ms"
              f"   ratio {new / base:5.2f}x")  # fmt: skip


refetched: list[Page] = []

if __name__ == "__main__":
    main()
