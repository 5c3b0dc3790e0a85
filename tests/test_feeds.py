"""Feeds end to end on a real store: every file valid (F2), stable GUIDs (F3-F6), mode (F11)."""

from __future__ import annotations

import os
import re
import stat
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from pipeline.errors import ConfigError
from pipeline.feeds.publish import (
    TAGGING_ENTITY_KEY,
    feed_tagging_entity,
    new_tagging_entity,
    render_all_feeds,
)
from pipeline.ingest.parse import content_hash
from pipeline.ingest.saved_pages import ingest_files, store_pages
from pipeline.records import Page, ParsedPaper
from pipeline.store.engine import read_session
from pipeline.store.tables import Meta
from pipeline.topics import load_topics, topics_file
from tests.conftest import SAMPLES, make_config, text_page
from tests.feed_checks import check_feed_file

SITE = "https://feeds.example.org/pb/"
LONG = "We extend the context window of language models to a million tokens."
OTHER = "A study of tokenizers."


def config(tmp_path: Path, site: str = SITE, **output: object):
    return make_config(tmp_path, output={"site_url": site, **output})


def ingest_text(engine, tmp_path: Path, name: str, listing: str, papers, now):
    path = tmp_path / "pages" / name
    path.parent.mkdir(exist_ok=True)
    path.write_text(text_page(listing, papers), encoding="utf-8")
    report = ingest_files([path], engine=engine, now=now)
    assert report.ok, report.failures


def render(tmp_path, engine, now, cfg=None):
    topics = load_topics(topics_file(None))
    return render_all_feeds(cfg or config(tmp_path), engine=engine, topics=topics, now=now)


def items(tmp_path: Path, name: str) -> dict[str, str]:
    data = (tmp_path / "out" / "feeds" / name).read_bytes()
    return dict(check_feed_file(data, atom=name.endswith(".atom")))


def feed_files(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "out" / "feeds").glob("*.*"))


def test_feeds_from_samples_are_valid_and_complete(tmp_path, engine, now):
    assert ingest_files(sorted(SAMPLES.glob("*.txt")), engine=engine, now=now).ok
    report = render(tmp_path, engine, now)
    topics = load_topics(topics_file(None))
    names = {p.name for p in feed_files(tmp_path)}
    slugs = ["all", *(t.slug for t in topics)]
    assert names == {f"{s}.{ext}" for s in slugs for ext in ("xml", "atom")} | {"index.opml"}
    assert report.feeds == len(slugs) and len(report.written) == len(names)
    selecting = []
    for slug in slugs:
        rss, atom = items(tmp_path, f"{slug}.xml"), items(tmp_path, f"{slug}.atom")
        assert list(rss) == list(atom)  # same papers, same order
        selecting += [slug] if rss else []
    # the three sample pages are language-model papers of 2025: the topics of that field select
    # from them (vision, 3D, robotics... have nothing there, and valid empty feeds)
    field = {"long-context", "retrieval-rag", "reasoning", "efficiency", "llm-training"}
    assert field <= set(selecting)
    assert len(items(tmp_path, "all.xml")) == 100  # the default feed_item_limit
    opml = (tmp_path / "out" / "feeds" / "index.opml").read_text()
    assert opml.count("<outline") == len(slugs) and ".paperboy-" not in opml


def test_feeds_rerun_is_byte_identical_and_mode_0644(tmp_path, engine, now):
    assert ingest_files(sorted(SAMPLES.glob("*.txt")), engine=engine, now=now).ok
    render(tmp_path, engine, now)
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in feed_files(tmp_path)}
    for path in before:
        assert stat.S_IMODE(path.stat().st_mode) == 0o644, path
    report = render(tmp_path, engine, now + timedelta(days=3))  # a later run, no new data
    assert report.written == ()
    after = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in feed_files(tmp_path)}
    assert after == before
    assert not [p for p in (tmp_path / "out" / "feeds").iterdir() if p.name.startswith(".")]


def test_feeds_recurring_paper_keeps_guid_and_date(tmp_path, engine, now):
    day1 = [("Long Context Scaling", LONG), ("Token Study", OTHER), ("KV Cache Tricks", LONG)]
    ingest_text(engine, tmp_path, "d1.txt", "Nov 20", day1, now)
    render(tmp_path, engine, now)
    first = {n: items(tmp_path, n) for n in ("long-context.xml", "long-context.atom", "all.xml")}
    day2 = [("A Million Tokens of Context", LONG), ("KV Cache Tricks", LONG)]
    ingest_text(engine, tmp_path, "d2.txt", "Nov 21", day2, now)
    render(tmp_path, engine, now + timedelta(days=1))
    for name, old in first.items():
        new = items(tmp_path, name)
        for guid, published in old.items():
            assert new[guid] == published, (name, guid)  # same guid, same first-seen date
        assert len(new) == len(old) + 1  # exactly the one new paper is new
    rss = items(tmp_path, "long-context.xml")
    assert next(iter(rss)).endswith("paper/title:amilliontokensofcontext")


def test_feeds_guids_survive_site_url_change(tmp_path, engine, now):
    assert ingest_files([SAMPLES / "page-a.txt"], engine=engine, now=now).ok
    render(tmp_path, engine, now)
    before = {p.name: items(tmp_path, p.name) for p in feed_files(tmp_path) if p.suffix != ".opml"}
    report = render(tmp_path, engine, now, cfg=config(tmp_path, "https://moved.example.net/x"))
    assert report.written  # links changed
    for name, old in before.items():
        assert items(tmp_path, name) == old, name
    assert b"moved.example.net" in (tmp_path / "out" / "feeds" / "all.xml").read_bytes()


def test_feeds_guid_kept_when_title_paper_gains_arxiv_id(tmp_path, engine, now):
    ingest_text(engine, tmp_path, "d1.txt", "Nov 20", [("Long Context Scaling", LONG)], now)
    render(tmp_path, engine, now)
    ((guid, published),) = items(tmp_path, "long-context.xml").items()
    merged = ParsedPaper(title="Long Context Scaling", abstract=LONG, rank=1, arxiv_id="2511.01234")
    page = Page(
        source="hf-api",
        origin="api",
        listing_date=date(2026, 11, 21),
        papers=(merged,),
        content_hash=content_hash((merged,)),
    )
    store_pages([page], engine=engine, now=now)
    render(tmp_path, engine, now)
    assert items(tmp_path, "long-context.xml") == {guid: published}
    assert (
        b"https://huggingface.co/papers/2511.01234"
        in (tmp_path / "out" / "feeds" / "long-context.xml").read_bytes()
    )


def test_feeds_item_limit_and_newest_first(tmp_path, engine, now):
    papers = [(f"Long Context Paper {i}", LONG) for i in range(1, 8)]
    ingest_text(engine, tmp_path, "d1.txt", "Nov 20", papers[:4], now)
    ingest_text(engine, tmp_path, "d2.txt", "Nov 21", papers[4:], now)
    render(tmp_path, engine, now, cfg=config(tmp_path, feed_item_limit=5))
    got = list(items(tmp_path, "long-context.atom").values())
    assert got == sorted(got, reverse=True) and len(got) == 5
    assert got[:3] == [
        "2026-11-21T00:59:59+00:00",
        "2026-11-21T00:59:58+00:00",
        "2026-11-21T00:59:57+00:00",
    ]


def test_feeds_tagging_entity_is_frozen_in_store(tmp_path, engine, now):
    first = feed_tagging_entity(engine, now=now, authority="example.org")
    assert first == "example.org,2026-11-23"
    assert feed_tagging_entity(engine, now=now + timedelta(days=400), authority="x.net") == first
    with read_session(engine) as session:
        assert session.exec(select(Meta.value).where(Meta.key == TAGGING_ENTITY_KEY)).one() == first
    with pytest.raises(ConfigError, match="'a b' is not a domain name"):
        new_tagging_entity(now=now, authority="a b")
    assert re.fullmatch(r"paperboy-[0-9a-f]{12}\.invalid,2026-11-23", new_tagging_entity(now=now))


@pytest.mark.parametrize("site", ["", "feeds.example.org", "ftp://x.org/"])
def test_feeds_need_absolute_site_url(tmp_path, site):
    with pytest.raises(ConfigError, match=r"output\.site_url: .*absolute http\(s\) URL"):
        config(tmp_path, site)  # refused when the configuration is loaded, before any work


def test_feeds_remove_stale_temp_files(tmp_path, engine, now):
    folder = tmp_path / "out" / "feeds"
    folder.mkdir(parents=True)
    stale, fresh = folder / ".paperboy-all.xml.x1.tmp", folder / ".paperboy-all.xml.x2.tmp"
    stale.write_bytes(b"<rss")
    fresh.write_bytes(b"<rss")
    old = now.timestamp() - 7200
    os.utime(stale, (old, old))
    os.utime(fresh, (now.timestamp(), now.timestamp()))
    render(tmp_path, engine, now)
    assert not stale.exists() and fresh.exists()


def test_feeds_of_a_removed_topic_are_removed(tmp_path, engine, now):
    """Issue 15.11: a removed topic's feeds were served forever."""
    from pipeline.topics import Topic

    ingest_text(engine, tmp_path, "p.txt", "Mar 14", [("Long context models", LONG)], now)
    topics = load_topics(topics_file(None))
    cfg = config(tmp_path)
    render_all_feeds(cfg, engine=engine, topics=topics, now=now)
    folder = tmp_path / "out" / "feeds"
    (folder / "notes.txt").write_text("mine")  # not a feed of ours: left alone
    kept: list[Topic] = [t for t in topics if t.slug != "long-context"]
    report = render_all_feeds(cfg, engine=engine, topics=kept, now=now)
    assert sorted(p.name for p in report.removed) == ["long-context.atom", "long-context.xml"]
    assert not (folder / "long-context.xml").exists()
    assert (folder / "notes.txt").read_text() == "mine"
    assert "long-context" not in (folder / "index.opml").read_text()
