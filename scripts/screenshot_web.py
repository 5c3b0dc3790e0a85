"""Serve a demo store with `paperboy serve`'s app and screenshot its pages in headless Chromium.

Usage: python scripts/screenshot_web.py [OUTDIR]   (needs playwright and the Debian `chromium`)

Writes OUTDIR/{home,edition,topic,subscribe}-{desktop,phone,dark}.png (desktop 1280 px, phone
390 px, dark = desktop with prefers-color-scheme: dark). Not used by the tests.
"""

from __future__ import annotations

import dataclasses
import sys
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import Engine

from pipeline.app import Paperboy
from pipeline.clock import fixed_clock
from pipeline.config import Config, Secrets, config_from_mapping
from pipeline.feeds.publish import render_all_feeds
from pipeline.records import Page, ParsedPaper
from pipeline.store.engine import init_db, make_engine, write_session
from pipeline.store.papers import upsert_page
from pipeline.topics import load_topics, topics_file
from pipeline.web.app import create_app
from tests.email_support import free_port
from tests.live_server import chromium, live_server

DAYS = [date(2026, 11, 19), date(2026, 11, 20), date(2026, 11, 23)]
TITLES = [
    ("Efficient Streaming Language Models with Attention Sinks", "long context KV cache"),
    ("LongLoRA: Efficient Fine-tuning of Long-Context Large Language Models", "context window"),
    ("Retrieval Meets Long Context Large Language Models", "retrieval-augmented generation"),
    ("Dense X Retrieval: What Retrieval Granularity Should We Use?", "dense retrieval"),
    ("Mixtral of Experts", "sparse mixture of experts routing"),
    ("SeamlessM4T: Massively Multilingual & Multimodal Machine Translation", "multilingual"),
    ("QLoRA: Efficient Finetuning of Quantized LLMs", "quantization and low-rank adapters"),
    ("Speculative Decoding with Big Little Decoder", "speculative decoding speedup"),
]
ABSTRACT = (
    "We study {what} in large language models and show that a simple change to training and "
    "inference gives strong gains on standard benchmarks while keeping the cost low. Code and "
    "models are released. https://github.com/example/project"
)
PAGES = {
    "home": "/",
    "edition": "/editions/2026-11-23",
    "topic": "/topics/long-context",
    "subscribe": "/subscribe",
}


def demo_store(root: Path, now: datetime) -> tuple[Config, Engine, int]:
    """A config rooted at ``root`` and an engine holding three editions."""
    port = free_port()
    cfg = config_from_mapping(
        {"output": {"site_url": f"http://127.0.0.1:{port}/"}}, base_dir=root, env={}
    )
    engine = make_engine(cfg.database_url)
    init_db(engine)
    for n, day in enumerate(DAYS):
        chosen = TITLES[n * 2 : n * 2 + 5]
        papers = tuple(
            ParsedPaper(
                title=t,
                abstract=ABSTRACT.format(what=w),
                rank=i + 1,
                arxiv_id=f"2311.{100 + TITLES.index((t, w)):05d}",
                links=("https://github.com/example/project",),
            )
            for i, (t, w) in enumerate(chosen)
        )
        page = Page(
            source="demo",
            origin="demo",
            listing_date=day,
            papers=papers,
            content_hash=f"demo-{day}",
        )
        with write_session(engine) as session:
            upsert_page(session=session, page=page, now=now)
    render_all_feeds(cfg, engine=engine, topics=load_topics(topics_file(None)), now=now)
    return cfg, engine, port


def main() -> None:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "web-screenshots")
    out.mkdir(parents=True, exist_ok=True)
    now = datetime(2026, 11, 23, 8, tzinfo=UTC)
    with tempfile.TemporaryDirectory() as tmp:
        cfg, engine, port = demo_store(Path(tmp), now)
        pb = Paperboy(dataclasses.replace(cfg, secrets=Secrets(secret="demo")), engine=engine,
                      clock=fixed_clock(now))  # fmt: skip
        app = create_app(pb)
        with live_server(app, port) as base, chromium() as browser:
            for mode, width, scheme in (
                ("desktop", 1280, "light"),
                ("phone", 390, "light"),
                ("dark", 1280, "dark"),
            ):
                context = browser.new_context(
                    viewport={"width": width, "height": 900}, color_scheme=scheme
                )
                page = context.new_page()
                for name, path in PAGES.items():
                    page.goto(base + path)
                    target = out / f"{name}-{mode}.png"
                    page.screenshot(path=str(target), full_page=True)
                    print(target)
                context.close()


if __name__ == "__main__":
    main()
