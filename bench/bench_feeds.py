"""Feed rendering cost: 50 topics x 200 items, paperboy's renderer vs feedgen alone.

Run from the repository root: PYTHONPATH=. python bench/bench_feeds.py
(prints figures; append them to docs/benchmarks.md)
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta

from feedgen.feed import FeedGenerator

from pipeline.feeds.items import build_feed, pick_topic_papers
from pipeline.feeds.render import render_atom, render_rss
from pipeline.records import FeedInput, StoredPaper
from pipeline.topics import parse_topics

TOPICS, ITEMS, REPEAT = 50, 200, 3
ABSTRACT = "We study long context retrieval & compression <fast> for language models. " * 12


def _papers(count: int) -> list[tuple[StoredPaper, int]]:
    start = date(2026, 11, 23)
    return [
        (
            StoredPaper(
                key=f"arxiv:2611.{i:05d}",
                title=f"Paper {i}: topic {i % TOPICS} & friends",
                abstract=ABSTRACT,
                arxiv_id=f"2611.{i:05d}",
                links=(f"https://github.com/example/repo{i}",),
                first_seen=start - timedelta(days=i // 50),
                last_seen=start,
                times_seen=1 + i % 3,
            ),
            1 + i % 50,
        )
        for i in range(count)
    ]


def _feeds() -> list[FeedInput]:
    papers = _papers(ITEMS)
    return [
        build_feed(
            slug=f"topic-{t}",
            title=f"paperboy: topic {t}",
            description="d",
            author="paperboy",
            papers=papers,
            tagging_entity="example.org,2026-11-01",
            site_url="https://example.org/pb/",
            empty_updated=datetime(2026, 1, 1, tzinfo=UTC),
        )
        for t in range(TOPICS)
    ]


def _feedgen_alone(feed: FeedInput) -> tuple[bytes, bytes]:
    """The same entries through feedgen with the fewest calls: the floor we compare to."""
    fg = FeedGenerator()
    fg.id(feed.feed_id)
    fg.title(feed.title)
    fg.description(feed.description)
    fg.author({"name": feed.author})
    fg.link(href=feed.site_url, rel="alternate")
    fg.updated(feed.updated)
    for item in feed.entries:
        fe = fg.add_entry(order="append")
        fe.id(item.guid)
        fe.title(item.title)
        fe.link(href=item.link)
        fe.summary(item.summary_html, type="html")
        fe.published(item.published)
        fe.updated(item.published)
    return fg.rss_str(pretty=True), fg.atom_str(pretty=True)


def _best(fn) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(REPEAT):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def measure_render() -> dict[str, float]:
    """Render every topic's RSS + Atom, and the same through feedgen alone; print and return."""
    t0 = time.perf_counter()
    feeds = _feeds()
    build = time.perf_counter() - t0
    ours = _best(lambda: [(render_rss(f), render_atom(f)) for f in feeds])
    floor = _best(lambda: [_feedgen_alone(f) for f in feeds])
    size = sum(len(render_rss(f)) + len(render_atom(f)) for f in feeds)
    files = 2 * TOPICS
    print(
        f"feeds: {TOPICS} topics x {ITEMS} items, {files} files (RSS + Atom), {size / 1e6:.1f} MB"
    )
    print(f"build records (guids, dates, summaries): {build:.3f} s")
    print(f"paperboy render: {ours:.3f} s; feedgen alone: {floor:.3f} s; ratio {ours / floor:.2f}")
    return {"build_s": build, "render_s": ours, "feedgen_s": floor, "mb": size / 1e6}


def main() -> None:
    """Print the figures."""
    measure_render()

    rules = [
        {"slug": f"t{i}", "include": [f"topic {i}", f"method{i} compression"], "threshold": 3}
        for i in range(TOPICS)
    ]
    topics = parse_topics({"topics": rules}, origin="bench")
    stream = _papers(20_000)
    start = time.perf_counter()
    picked = pick_topic_papers(topics, iter(stream), limit=ITEMS)
    pick = time.perf_counter() - start
    full = sum(len(v) for v in picked.values())
    print(f"topic selection, {TOPICS} topics from up to 20000 papers: {pick:.3f} s ({full} picks)")


if __name__ == "__main__":
    main()
