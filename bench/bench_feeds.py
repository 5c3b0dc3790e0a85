"""Feeds: rendering 50 topics x 200 items vs feedgen alone, and the whole feeds stage on
seeded stores of real papers (bench/feeds_store.py): `paperboy feeds` vs feedgen rendering the
same items, a run with nothing new, keyset pages, assigning changed papers.

Run from the repository root:
    PYTHONPATH=. python bench/bench_feeds.py [--sizes 10000,1000000] [--rounds 7]
        [--archive DIR] [--cache-dir /tmp]
(prints figures; docs/benchmarks.md quotes them). Topics: the shipped ones plus one that
matches nothing (the case that made the old render scan the whole store).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from feedgen.feed import FeedGenerator
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parent))

from feeds_store import Seeded, real_papers, seeded_store
from figures import Figure, at_most

from pipeline.app import Paperboy
from pipeline.config import config_from_mapping
from pipeline.feeds.items import build_feed
from pipeline.feeds.publish import collect_feeds, feed_tagging_entity
from pipeline.feeds.render import render_atom, render_feed, render_rss
from pipeline.records import FeedInput, StoredPaper
from pipeline.store.assignments import assign_pending
from pipeline.store.engine import write_session
from pipeline.topics import Topic, assign_topics, load_topics, parse_topics, topics_file

TOPICS, ITEMS, REPEAT = 50, 200, 3
NOW = datetime(2026, 11, 23, 6, tzinfo=UTC)
# A topic no paper matches: before issue 12 it made every render score the whole store.
NOTHING = parse_topics(
    {"topics": [{"slug": "nothing", "title": "Nothing", "include": ["zqxj wvut"]}]}, origin="bench"
)
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


def _interleaved(fns: dict[str, Callable[[], object]], rounds: int) -> dict[str, list[float]]:
    """Time each function once per round, the order rotating each round (load moves between
    rounds; a ratio of neighbours in the same round is what survives it)."""
    times: dict[str, list[float]] = {name: [] for name in fns}
    names = list(fns)
    for r in range(rounds):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            start = time.perf_counter()
            fns[name]()
            times[name].append(time.perf_counter() - start)
    return times


def _ratio(a: list[float], b: list[float]) -> str:
    ratios = sorted(x / y for x, y in zip(a, b, strict=True))
    q = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else [ratios[0]] * 3
    return f"{statistics.median(ratios):.3f}x ({q[0]:.3f}-{q[2]:.3f})"


def _ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:.1f} ms"


def _pb(url: str, folder: Path, topics: list[Topic]) -> Paperboy:
    cfg = config_from_mapping(
        {
            "store": {"database_url": url},
            "output": {"site_url": "https://papers.example.org/"},  # default feed_item_limit
        },
        base_dir=folder,
        env={},
    )
    return Paperboy(cfg, topics=topics, clock=lambda: NOW)


def bench_store(
    size: int, seeded: Seeded, topics: list[Topic], rounds: int, *, details: bool = True
) -> dict[str, list[float]]:
    """Feeds of a seeded store: full render, no-op, feedgen alone; keyset pages; assignment.
    Returns the interleaved times (seconds per round) of render, feedgen, noop and cold."""
    with tempfile.TemporaryDirectory() as folder:
        pb = _pb(seeded.url, Path(folder), topics)
        first = pb.publish_feeds()
        assert first.rendered
        feeds = collect_feeds(
            pb.engine, topics=topics, site_url=pb.config.site_url, title=pb.config.output.title,
            limit=pb.config.output.feed_item_limit,
            tagging_entity=feed_tagging_entity(pb.engine, now=NOW),
        )  # fmt: skip
        items = sum(len(f.entries) for f in feeds)
        empty = [f.slug for f in feeds if not f.entries]

        def cold() -> (
            None
        ):  # no kept items: as after an upgrade (each round starts by dropping them)
            with write_session(pb.engine) as session:
                session.execute(text("DELETE FROM feed_entry"))
            pb.publish_feeds(force=True)

        times = _interleaved(
            {
                "render": lambda: pb.publish_feeds(force=True),
                "feedgen": lambda: [_feedgen_alone(f) for f in feeds],
                "noop": lambda: pb.publish_feeds(),
                "cold": cold,
            },
            rounds,
        )
        assert not pb.publish_feeds().rendered
        print(f"\n## store of {size:,} papers ({seeded.distinct:,} distinct real texts)")
        if seeded.seconds:
            print(f"seeded in {seeded.seconds:.0f} s (executemany, assignments, checks)")
        print(f"{len(feeds)} feeds ({len(topics)} topics + all), {items:,} items; empty: {empty}")
        print(f"paperboy feeds, full render (force): {_ms(times['render'])}")
        print(f"feedgen alone, same items:           {_ms(times['feedgen'])}")
        print(f"ratio render / feedgen: {_ratio(times['render'], times['feedgen'])}")
        print(f"paperboy feeds, no kept items (cold): {_ms(times['cold'])}")
        print(f"ratio cold render / feedgen: {_ratio(times['cold'], times['feedgen'])}")
        print(f"paperboy feeds, nothing changed:     {_ms(times['noop'])}")
        print(f"ratio no-op / full render: {_ratio(times['noop'], times['render'])}")
        if details:
            _breakdown(pb, topics)
            _keyset(pb, rounds)
            _assignment(pb, topics)
        pb.close()
    return times


def _breakdown(pb: Paperboy, topics: list[Topic]) -> None:
    """Where one full render goes: the store read, the records, the XML."""
    from pipeline.feeds import publish

    start = time.perf_counter()
    assign_pending(pb.engine, topics)
    checked = time.perf_counter()
    feeds = publish.collect_feeds(
        pb.engine, topics=topics, site_url=pb.config.site_url, title=pb.config.output.title,
        limit=pb.config.output.feed_item_limit,
        tagging_entity=feed_tagging_entity(pb.engine, now=NOW),
    )  # fmt: skip
    collected = time.perf_counter()
    for feed in feeds:
        render_feed(feed)
    rendered = time.perf_counter()
    print(
        f"one render: assignment check {1000 * (checked - start):.1f} ms, read + records "
        f"{1000 * (collected - checked):.0f} ms, RSS + Atom {1000 * (rendered - collected):.0f} ms"
    )


_NOW_PAGE = (
    "SELECT key, title, abstract, arxiv_id, links, first_seen, last_seen, times_seen, authors,"
    " keywords, (SELECT min(rank) FROM appearance a WHERE a.paper_id = paper.id"
    " AND a.listing_date = paper.first_seen) FROM paper"
    " WHERE first_seen <= :d AND (first_seen < :d OR key > :k)"
    " ORDER BY first_seen DESC, key LIMIT 500"
)
# The query before issue 12: whole rows, and the OR that no index range can serve.
_OLD_PAGE = (
    "SELECT paper.*, (SELECT min(rank) FROM appearance a WHERE a.paper_id = paper.id"
    " AND a.listing_date = paper.first_seen) FROM paper"
    " WHERE first_seen < :d OR (first_seen = :d AND key > :k)"
    " ORDER BY first_seen DESC, key LIMIT 500"
)


def _keyset(pb: Paperboy, rounds: int) -> None:
    """One keyset page of 500 papers newest first, at several depths, now and before; and
    reading every paper with iter_papers_newest_first."""
    from pipeline.store.engine import read_session
    from pipeline.store.papers import iter_papers_newest_first

    with read_session(pb.engine) as session:
        total = session.execute(text("SELECT count(*) FROM paper")).scalar_one()
        cursors = {}
        for share in (0.1, 0.5, 0.9):
            row = session.execute(
                text("SELECT first_seen, key FROM paper ORDER BY first_seen DESC, key"
                     f" LIMIT 1 OFFSET {int(total * share)}")
            ).one()  # fmt: skip
            cursors[share] = {"d": row[0], "k": row[1]}

        def page(sql: str, share: float) -> None:
            assert len(session.execute(text(sql), cursors[share]).all()) == 500

        fns: dict[str, Callable[[], object]] = {}
        for share in cursors:
            fns[f"now {share:.0%}"] = lambda s=share: page(_NOW_PAGE, s)
            fns[f"before {share:.0%}"] = lambda s=share: page(_OLD_PAGE, s)
        times = _interleaved(fns, max(3, rounds // 2))
        # and as before issue 12, when ix_paper_newest did not exist (once: seconds a page)
        old_index = _OLD_PAGE.replace(
            " FROM paper WHERE", " FROM paper INDEXED BY ix_paper_first_seen WHERE"
        )
        before = {}
        for share in cursors:
            start = time.perf_counter()
            page(old_index, share)
            before[share] = time.perf_counter() - start
    depths = "; ".join(
        f"{share:.0%}: {_ms(times[f'now {share:.0%}'])} / {_ms(times[f'before {share:.0%}'])}"
        for share in cursors
    )
    print(f"keyset page of 500 at depth (share of the store), now / the old OR predicate: {depths}")
    print(
        "the old OR predicate on the old indexes (ix_paper_first_seen only), once: "
        + "; ".join(f"{share:.0%}: {1000 * seconds:.0f} ms" for share, seconds in before.items())
    )
    start = time.perf_counter()
    with read_session(pb.engine) as session:
        count = sum(1 for _ in iter_papers_newest_first(session=session))
    print(
        f"iter_papers_newest_first over all {count:,} papers: {time.perf_counter() - start:.1f} s"
    )


def _assignment(pb: Paperboy, topics: list[Topic]) -> None:
    """Assigning 500 changed papers (rows marked by the triggers), vs scoring them all."""
    with write_session(pb.engine) as session:  # a recurring listing touches 300 papers
        every = max(1, session.execute(text("SELECT max(id) FROM paper")).scalar_one() // 300)
        chosen = f"id % {every} = 0"
        # a change and its undo: the triggers mark a paper only when a value changes
        for step in ("+ 1", "- 1"):
            session.execute(text(f"UPDATE paper SET times_seen = times_seen {step} WHERE {chosen}"))
        marked = session.execute(text("SELECT count(*) FROM topic_pending")).scalar_one()
        rows = session.execute(text(f"SELECT title, abstract, keywords FROM paper WHERE {chosen}"))
        rows = rows.all()
    start = time.perf_counter()
    report = assign_pending(pb.engine, topics)
    took = time.perf_counter() - start
    start = time.perf_counter()
    for title, abstract, keywords in rows:
        assign_topics(topics, title=title, abstract=abstract, keywords=json.loads(keywords))
    scoring = time.perf_counter() - start
    print(
        f"assignment: {report.papers} pending papers (of {marked} marked) in {took:.2f} s = "
        f"{1000 * took / max(1, report.papers):.2f} ms a paper; assign_topics alone on the same "
        f"papers: {1000 * scoring / max(1, len(rows)):.2f} ms a paper"
    )


def figures(quick: bool, postgres: str | None) -> list[Figure]:
    """run_all's rows: `paperboy feeds` vs feedgen on the same items, and a no-op run vs a full
    render, on stores of 10k and (not quick) 1M real papers. SQLite only (``postgres`` unused)."""
    del postgres
    topics = [*load_topics(topics_file(None)), *NOTHING]
    archive = os.environ.get("PAPERBOY_HF_ARCHIVE")
    papers = real_papers(Path(archive) if archive else None)
    rows: list[Figure] = []
    for size in (10_000,) if quick else (10_000, 1_000_000):
        seeded = seeded_store(size, topics, papers, Path(tempfile.gettempdir()))
        times = bench_store(size, seeded, topics, 5 if quick else 7, details=False)
        render, feedgen, noop = (statistics.median(times[k]) for k in ("render", "feedgen", "noop"))
        rows.append(at_most(f"paperboy feeds, {size:,} stored papers",
                            f"{render * 1000:.0f} ms", f"{feedgen * 1000:.0f} ms feedgen alone",
                            render / feedgen, 1.5))  # fmt: skip
        rows.append(Figure(f"feeds run with nothing new, {size:,} stored",
                           f"{noop * 1000:.1f} ms", f"{render * 1000:.0f} ms full render",
                           noop / render, "< 0.05x", noop / render < 0.05))  # fmt: skip
    return rows


def main() -> None:
    """Print the figures (docs/benchmarks.md quotes them)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="10000,1000000", help="store sizes (papers)")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument(
        "--archive",
        type=Path,
        default=os.environ.get("PAPERBOY_HF_ARCHIVE"),
        help="folder of saved API days (default: the shipped fixtures)",
    )
    parser.add_argument("--cache-dir", type=Path, default=Path(tempfile.gettempdir()))
    parser.add_argument("--render-only", action="store_true", help="only the 50x200 render")
    args = parser.parse_args()
    measure_render()
    if args.render_only:
        return
    topics = [*load_topics(topics_file(None)), *NOTHING]
    papers = real_papers(args.archive)
    for size in (int(s) for s in args.sizes.split(",")):
        seeded = seeded_store(size, topics, papers, args.cache_dir)
        bench_store(size, seeded, topics, args.rounds)


if __name__ == "__main__":
    main()
