"""Live-source figures: HF API JSON parse speed over the real archive, HTML extraction, fetch+store.

Run: PYTHONPATH=. python bench/bench_live.py [--archive DIR]
The archive figure parses the day files under DIR (default: $PAPERBOY_HF_ARCHIVE, else the small
real subset shipped in tests/data/hf/archive/); the figure in docs/benchmarks.md is for the full
archive (2404589803/hf-daily-paper-newsletter-chinese, 84 day files: see tests/data/hf/README.md).
"""

from __future__ import annotations

import argparse
import html
import json
import os
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

import httpx

from pipeline.config import HttpConfig, SourceConfig
from pipeline.ingest.fetch import make_client
from pipeline.ingest.parse.hf_api import parse_api_json
from pipeline.ingest.parse.hf_html import parse_daily_html
from pipeline.ingest.sources import ingest_source_date
from pipeline.store.engine import init_db, make_engine

SHIPPED_ARCHIVE = Path(__file__).resolve().parents[1] / "tests" / "data" / "hf" / "archive"
NOW = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)


def bench_archive(archive: Path) -> None:
    files = [p for p in sorted(archive.glob("Paper_metadata_download/*.json"))
             if p.stem not in ("2024-12-11", "2025-01-10")]  # fmt: skip
    texts = [(p.read_text(encoding="utf-8"), date.fromisoformat(p.stem)) for p in files]
    size = sum(len(t.encode()) for t, _ in texts)
    start = time.perf_counter()
    entries = sum(
        len(parse_api_json(t, origin="b", source="b", listing_date=d).papers) for t, d in texts
    )
    took = time.perf_counter() - start
    print(f"API JSON: {len(files)} files, {entries} entries, {size / 1e6:.1f} MB in {took:.2f} s "
          f"({entries / took:,.0f} entries/s, {size / 1e6 / took:.1f} MB/s)")  # fmt: skip
    big = max(texts, key=lambda t: len(t[0]))
    entries_list = json.loads(big[0])
    props = {"dateString": big[1].isoformat(), "dailyPapers": entries_list * 4}
    page = f'<div data-target="DailyPapers" data-props="{html.escape(json.dumps(props))}"></div>'
    start = time.perf_counter()
    n = len(parse_daily_html(page, origin="b", source="b").papers)
    took = time.perf_counter() - start
    print(f"HTML extract: {len(page) / 1e6:.1f} MB page, {n} entries in {took:.3f} s")


def bench_fetch_store() -> None:
    days = [date(2026, 1, 1).fromordinal(date(2026, 1, 1).toordinal() + i) for i in range(30)]

    def handler(request: httpx.Request) -> httpx.Response:
        d = request.url.params["date"]
        entries = []
        for i in range(50):
            paper_id = f"26{i % 12 + 1:02d}.{int(d[-2:]) * 1000 + i:05d}"
            paper = {"id": paper_id, "title": f"T {d} {i}", "summary": "x " * 400, "upvotes": i}
            entries.append({"paper": paper, "title": f"T {d} {i}"})
        return httpx.Response(200, json=entries)

    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/b.db")
        init_db(engine)
        http = HttpConfig(hf_base_url="https://hf.test")
        client = make_client(
            http,
            transport=httpx.MockTransport(handler),
            resolve=lambda _host: ["93.184.216.34"],  # the SSRF guard's look-up, without DNS
        )
        start = time.perf_counter()
        for d in days:
            ingest_source_date(
                SourceConfig("hf-api", "hf-api"),
                d,
                http=http,
                client=client,
                engine=engine,
                now=NOW,
            )
        took = time.perf_counter() - start
        print(f"fetch+parse+store (MockTransport, SQLite file): {len(days)} days x 50 papers in "
              f"{took:.2f} s ({took / len(days) * 1000:.0f} ms/day)")  # fmt: skip
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--archive",
        type=Path,
        default=Path(os.environ.get("PAPERBOY_HF_ARCHIVE") or SHIPPED_ARCHIVE),
        help="folder holding Paper_metadata_download/<date>.json "
        "(default: $PAPERBOY_HF_ARCHIVE, else the subset in tests/data/hf/archive)",
    )
    args = parser.parse_args()
    if not args.archive.is_dir():
        parser.error(f"--archive {args.archive}: not a folder")
    print(f"archive: {args.archive}")
    bench_archive(args.archive)
    bench_fetch_store()


if __name__ == "__main__":
    main()
