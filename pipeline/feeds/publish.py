"""Render and write every topic feed. Orchestration of the feeds stage (used by ``paperboy
feeds``, later by ``paperboy run``).

Compute first, then write: papers are read in one read transaction, every feed is rendered in
memory, and only then are files replaced (atomically, unchanged ones left alone). The GUID
tagging entity is frozen in the store on first use and read from there afterwards.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.config import Config
from pipeline.errors import ConfigError
from pipeline.feeds.items import (
    ALL_SLUG,
    RankedPaper,
    build_feed,
    day_start,
    pick_topic_papers,
)
from pipeline.feeds.render import GENERATOR, render_atom, render_opml, render_rss
from pipeline.feeds.write import remove_stale_temp_files, write_feed
from pipeline.records import FeedInput
from pipeline.store.engine import read_session, write_session
from pipeline.store.meta import ensure_meta, get_meta
from pipeline.store.paper_meta import with_metadata
from pipeline.store.papers import iter_papers_newest_first, last_listing_date
from pipeline.topics import Topic

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlmodel import Session

TAGGING_ENTITY_KEY = "feed_tagging_entity"  # Meta key: "<authority>,<YYYY-MM-DD>" (RFC 4151)
FEEDS_DIR = "feeds"
INDEX_NAME = "index.opml"
FEED_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}\.(xml|atom|opml)$")  # what we write and serve
# RFC 4151 authorityName: a DNS name or an email address.
_AUTHORITY = re.compile(
    r"^(?:[A-Za-z0-9._%+-]+@)?[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$"
)


@dataclass(frozen=True)
class FeedsReport:
    """What ``render_all_feeds`` did."""

    folder: Path
    feeds: int  # topic feeds plus "all"
    written: tuple[Path, ...]  # files whose bytes changed
    unchanged: int  # files left alone (same bytes)
    removed: tuple[Path, ...] = ()  # feeds of topics no longer configured


def new_tagging_entity(*, now: datetime, authority: str | None = None) -> str:
    """A fresh tagging entity: the given authority (or a random private one) and today."""
    if authority is not None and not _AUTHORITY.match(authority):
        raise ConfigError(f"feed authority {authority!r} is not a domain name or email address")
    name = authority or f"paperboy-{secrets.token_hex(6)}.invalid"
    return f"{name},{now.date().isoformat()}"


def feed_tagging_entity(engine: Engine, *, now: datetime, authority: str | None = None) -> str:
    """The store's GUID tagging entity, created and frozen on first call (never from config)."""
    with read_session(engine) as session:
        found = get_meta(session=session, key=TAGGING_ENTITY_KEY)
    if found is not None:
        return found
    with write_session(engine) as session:
        value = new_tagging_entity(now=now, authority=authority)
        return ensure_meta(session=session, key=TAGGING_ENTITY_KEY, value=value)


def _with_metadata(
    session: Session, picked: dict[str, list[RankedPaper]]
) -> dict[str, list[RankedPaper]]:
    """The picked papers with their community values (one look-up for all feeds)."""
    unique = {paper.key: paper for papers in picked.values() for paper, _rank in papers}
    found = {
        paper.key: paper for paper in with_metadata(session=session, papers=list(unique.values()))
    }
    return {slug: [(found[p.key], rank) for p, rank in papers] for slug, papers in picked.items()}


def collect_feeds(
    engine: Engine,
    *,
    topics: Sequence[Topic],
    site_url: str,
    title: str,
    limit: int,
    tagging_entity: str,
) -> list[FeedInput]:
    """The feed records of ``all`` and of every topic, from one read of the store."""
    with read_session(engine) as session:
        picked = pick_topic_papers(topics, iter_papers_newest_first(session=session), limit=limit)
        latest = last_listing_date(session=session)
        picked = _with_metadata(session, picked)
    tag_day = date.fromisoformat(tagging_entity.rsplit(",", 1)[1])
    empty_updated = day_start(latest or tag_day)
    heads = [(ALL_SLUG, "All papers", f"Every paper {title} has seen, newest first.")]
    heads += [(t.slug, t.title, t.description) for t in topics]
    return [
        build_feed(
            slug=slug,
            title=f"{title}: {topic_title}",
            description=description,
            author=title,
            papers=picked[slug],
            tagging_entity=tagging_entity,
            site_url=site_url,
            empty_updated=empty_updated,
        )
        for slug, topic_title, description in heads
    ]


def render_all_feeds(
    cfg: Config, *, engine: Engine, topics: Sequence[Topic], now: datetime
) -> FeedsReport:
    """Render RSS and Atom for ``all`` and every topic plus the OPML index, and write them."""
    site_url = cfg.site_url  # validated and ending in '/' (Config)
    feeds = collect_feeds(
        engine,
        topics=topics,
        site_url=site_url,
        title=cfg.output.title,
        limit=cfg.output.feed_item_limit,
        tagging_entity=feed_tagging_entity(engine, now=now),
    )
    folder = cfg.output_dir / FEEDS_DIR
    files: dict[Path, bytes] = {}
    for feed in feeds:
        files[folder / f"{feed.slug}.xml"] = render_rss(feed)
        files[folder / f"{feed.slug}.atom"] = render_atom(feed)
    files[folder / INDEX_NAME] = render_opml(feeds, title=f"{cfg.output.title} feeds")
    remove_stale_temp_files(folder, now=now)
    written = tuple(path for path, data in files.items() if write_feed(path, data))
    removed = remove_orphan_feeds(folder, keep=set(files))
    return FeedsReport(
        folder=folder,
        feeds=len(feeds),
        written=written,
        unchanged=len(files) - len(written),
        removed=removed,
    )


def remove_orphan_feeds(folder: Path, *, keep: set[Path]) -> tuple[Path, ...]:
    """Delete our feed files whose topic is no longer configured (issue 15.11: served forever).

    Only files that are feeds we wrote are touched: a feed name, our ``<generator>`` and a self
    link to ``feeds/<that name>`` in their head; anything else in the folder stays.
    """
    generator = f"<generator>{GENERATOR}</generator>".encode()
    removed = []
    for path in sorted(folder.glob("*.*")):
        if path in keep or path.suffix not in (".xml", ".atom") or not FEED_NAME.match(path.name):
            continue
        try:
            head = path.read_bytes()[:4096]
        except OSError:
            continue
        if generator in head and f'/{FEEDS_DIR}/{path.name}" rel="self"'.encode() in head:
            path.unlink(missing_ok=True)
            removed.append(path)
    return tuple(removed)
