"""Latency of `paperboy serve` pages over real HTTP (uvicorn on 127.0.0.1, httpx client).

Usage: python bench/bench_web.py [DAYS] [PAPERS_PER_DAY]   (default 60 x 50 = 3,000 papers)

Prints median and p95 milliseconds per request for feed GETs (200 and 304), the home page, an
edition page, a topic page, a title search and the RFC 8058 one-click POST.
"""

from __future__ import annotations

import dataclasses
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.addresses import unsubscribe_token
from pipeline.app import Paperboy
from pipeline.clock import fixed_clock
from pipeline.config import Secrets, config_from_mapping
from pipeline.feeds.publish import render_all_feeds
from pipeline.records import Page, ParsedPaper
from pipeline.store.engine import init_db, make_engine, write_session
from pipeline.store.papers import upsert_page
from pipeline.store.subscribers import add_subscriber
from pipeline.topics import load_topics, topics_file
from pipeline.web.app import create_app
from tests.email_support import free_port
from tests.live_server import live_server

WORDS = "long context retrieval multilingual efficient quantization experts embedding".split()


def _page(day: date, n: int, per_day: int) -> Page:
    papers = tuple(
        ParsedPaper(
            title=f"Paper {n * per_day + i}: {WORDS[i % 8]} {WORDS[(i + n) % 8]} models",
            abstract=f"We study {WORDS[(i * 3) % 8]} language models. " * 6,
            rank=i + 1,
            arxiv_id=f"26{n:02d}.{i:05d}",
        )
        for i in range(per_day)
    )
    return Page(
        source="bench", origin="bench", listing_date=day, papers=papers, content_hash=f"bench-{day}"
    )


def _time(client: httpx.Client, method: str, url: str, runs: int, **kw: object) -> str:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        response = client.request(method, url, **kw)  # type: ignore[arg-type]
        samples.append((time.perf_counter() - start) * 1000)
        assert response.status_code in (200, 304), (url, response.status_code)
    samples.sort()
    p95 = samples[int(len(samples) * 0.95) - 1]
    return f"median {statistics.median(samples):6.1f} ms  p95 {p95:6.1f} ms  (n={runs})"


def main() -> None:
    days = int(sys.argv[1]) if len(sys.argv) > 1 else 60
    per_day = int(sys.argv[2]) if len(sys.argv) > 2 else 50
    now = datetime(2026, 11, 23, 8, tzinfo=UTC)
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        cfg = config_from_mapping(
            {"output": {"site_url": f"http://127.0.0.1:{port}/"}}, base_dir=Path(tmp), env={}
        )
        engine = make_engine(cfg.database_url)
        init_db(engine)
        first = date(2026, 11, 23) - timedelta(days=days - 1)
        for n in range(days):
            with write_session(engine) as session:
                upsert_page(session=session, page=_page(first + timedelta(n), n, per_day), now=now)
        topics = load_topics(topics_file(None))
        render_all_feeds(cfg, engine=engine, topics=topics, now=now)
        with write_session(engine) as session:
            record, _ = add_subscriber(
                session=session,
                email="a@example.org",
                topics=["long-context"],
                secret=b"bench",
                now=now,
            )
        token = unsubscribe_token(b"bench", record.token_nonce)
        bench_cfg = dataclasses.replace(cfg, secrets=Secrets(secret="bench"))
        app = create_app(Paperboy(bench_cfg, engine=engine, clock=fixed_clock(now), topics=topics))
        print(f"store: {days * per_day} papers over {days} editions")
        with live_server(app, port) as base, httpx.Client(base_url=base) as client:
            etag = client.get("/feeds/all.xml").headers["etag"]
            rows = [
                ("GET /feeds/all.xml (200)", "GET", "/feeds/all.xml", {}),
                (
                    "GET /feeds/all.xml (304)",
                    "GET",
                    "/feeds/all.xml",
                    {"headers": {"If-None-Match": etag}},
                ),
                ("GET /", "GET", "/", {}),
                ("GET /editions/<latest>", "GET", "/editions/2026-11-23", {}),
                ("GET /topics/long-context", "GET", "/topics/long-context", {}),
                ("GET /search?q=quantization", "GET", "/search?q=quantization", {}),
                (
                    "POST /unsubscribe/<token>",
                    "POST",
                    f"/unsubscribe/{token}",
                    {"data": {"List-Unsubscribe": "One-Click"}},
                ),
            ]
            for label, method, url, kw in rows:
                print(f"{label:30s} {_time(client, method, url, 100, **kw)}")


if __name__ == "__main__":
    main()
