"""Render and write every topic feed. Orchestration of the feeds stage (used by ``paperboy
feeds`` and ``paperboy run``).

Compute first, then write: papers are read in one read transaction, every feed is rendered in
memory, and only then are files replaced (atomically, unchanged ones left alone). The GUID
tagging entity is frozen in the store on first use and read from there afterwards.

Topics are not scored here: each feed is one index range over the stored assignments
(:mod:`pipeline.store.topic_papers`; pending papers are assigned first, which costs a few reads
when there are none). And nothing is rendered when nothing changed: a stamp next to the folder
(``<output>/.paperboy-feeds.json``) says what its files were rendered from (the store's
assignment generation, which every change of a paper or of the rules moves; the topics' titles
and order; the settings; the rendering code), and a run whose stamp matches, with every file in
place, reads and writes nothing more.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import feedgen

from pipeline import records as records_module
from pipeline.config import Config
from pipeline.errors import ConfigError
from pipeline.feeds import items as items_module
from pipeline.feeds import render as render_module
from pipeline.feeds.items import ALL_SLUG, assemble_feed, day_start, feed_entry
from pipeline.feeds.render import GENERATOR, render_feed, render_opml
from pipeline.feeds.write import remove_stale_temp_files, write_feed
from pipeline.records import FeedInput
from pipeline.resources import code_digest
from pipeline.store.assignments import assign_pending, generation
from pipeline.store.engine import read_session, write_session
from pipeline.store.feed_cache import cached_entries, keep_entries, prune_entries
from pipeline.store.meta import ensure_meta, get_meta
from pipeline.store.paper_meta import with_metadata
from pipeline.store.papers import last_listing_date
from pipeline.store.topic_papers import newest_ids, papers_by_id, topic_ids
from pipeline.topics import Topic

if TYPE_CHECKING:
    from sqlalchemy import Engine

TAGGING_ENTITY_KEY = "feed_tagging_entity"  # Meta key: "<authority>,<YYYY-MM-DD>" (RFC 4151)
FEEDS_DIR = "feeds"
INDEX_NAME = "index.opml"
FEED_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}\.(xml|atom|opml)$")  # what we write and serve
# What the feed files were rendered from (JSON), next to their folder (not in it: the folder
# holds the served files only) in the output folder.
STAMP_NAME = ".paperboy-feeds.json"
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
    rendered: bool = True  # False: the stamp said nothing changed, nothing was rendered


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


def collect_feeds(
    engine: Engine,
    *,
    topics: Sequence[Topic],
    site_url: str,
    title: str,
    limit: int,
    tagging_entity: str,
) -> list[FeedInput]:
    """The feed records of ``all`` and of every topic: each feed's paper ids are one index range
    over the stored assignments; items built before are read back (:mod:`pipeline.store.
    feed_cache`), the others built from their papers and kept for the next render."""
    version = entries_version(tagging_entity)
    with read_session(engine) as session:
        ids = {ALL_SLUG: newest_ids(session=session, limit=limit)}
        ids.update({t.slug: topic_ids(session=session, slug=t.slug, limit=limit) for t in topics})
        shown = {i for some in ids.values() for i in some}
        entries = cached_entries(session=session, ids=shown, version=version)
        papers = papers_by_id(session=session, ids=shown - entries.keys(), keywords=False)
        latest = last_listing_date(session=session)
        # the items to build show the community's values (upvotes, TL;DR...) too
        ids_of = {paper.key: paper_id for paper_id, (paper, _rank) in papers.items()}
        ranks = {paper_id: rank for paper_id, (_paper, rank) in papers.items()}
        unranked = with_metadata(session=session, papers=[p for p, _ in papers.values()])
        papers = {ids_of[p.key]: (p, ranks[ids_of[p.key]]) for p in unranked}
    made = {
        paper_id: (feed_entry(paper, rank, tagging_entity=tagging_entity), paper.last_seen)
        for paper_id, (paper, rank) in papers.items()
    }
    if made or len(entries) != len(shown):
        with write_session(engine) as session:
            keep_entries(session=session, entries=made, version=version)
            prune_entries(session=session, keep=shown, version=version)
    entries.update(made)
    tag_day = date.fromisoformat(tagging_entity.rsplit(",", 1)[1])
    empty_updated = day_start(latest or tag_day)
    heads = [(ALL_SLUG, "All papers", f"Every paper {title} has seen, newest first.")]
    heads += [(t.slug, t.title, t.description) for t in topics]
    return [
        assemble_feed(
            slug=slug,
            title=f"{title}: {topic_title}",
            description=description,
            author=title,
            entries=[entries[i] for i in ids[slug] if i in entries],
            tagging_entity=tagging_entity,
            site_url=site_url,
            empty_updated=empty_updated,
        )
        for slug, topic_title, description in heads
    ]


# What the bytes of a feed depend on besides data: our rendering code and feedgen.
CODE_DIGEST = code_digest(
    items_module, render_module, records_module, salt=str(getattr(feedgen, "__version__", ""))
)


def entries_version(tagging_entity: str) -> str:
    """What a kept feed item depends on besides its paper: the code and the GUID authority."""
    return hashlib.sha256(f"{CODE_DIGEST}|{tagging_entity}".encode()).hexdigest()[:32]


def feeds_stamp(
    cfg: Config, *, topics: Sequence[Topic], store_generation: int, tagging_entity: str
) -> dict[str, Any]:
    """What the feed files depend on: if it is unchanged, so are they."""
    return {
        "generation": store_generation,
        "topics": [[t.slug, t.title, t.description] for t in topics],
        "site_url": cfg.site_url,
        "title": cfg.output.title,
        "limit": cfg.output.feed_item_limit,
        "tagging_entity": tagging_entity,
        "code": CODE_DIGEST,
    }


def _file_names(topics: Sequence[Topic]) -> list[str]:
    slugs = [ALL_SLUG, *(t.slug for t in topics)]
    return [f"{slug}.{ext}" for slug in slugs for ext in ("xml", "atom")] + [INDEX_NAME]


def _stamp_matches(folder: Path, stamp: dict[str, Any], names: Sequence[str]) -> bool:
    try:
        found = json.loads((folder.parent / STAMP_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return found == stamp and all((folder / name).is_file() for name in names)


def render_all_feeds(
    cfg: Config, *, engine: Engine, topics: Sequence[Topic], now: datetime, force: bool = False
) -> FeedsReport:
    """Render RSS and Atom for ``all`` and every topic plus the OPML index, and write them;
    unless the folder's stamp says they were rendered from the same data and settings
    (``force`` renders anyway)."""
    site_url = cfg.site_url  # validated and ending in '/' (Config)
    assign_pending(engine, topics)
    tagging_entity = feed_tagging_entity(engine, now=now)
    folder = cfg.output_dir / FEEDS_DIR
    names = _file_names(topics)
    with read_session(engine) as session:  # before the papers: a later change moves it on
        store_generation = generation(session)
    stamp = feeds_stamp(
        cfg, topics=topics, store_generation=store_generation, tagging_entity=tagging_entity
    )
    if not force and _stamp_matches(folder, stamp, names):
        return FeedsReport(
            folder=folder, feeds=len(topics) + 1, written=(), unchanged=len(names), rendered=False
        )
    feeds = collect_feeds(
        engine,
        topics=topics,
        site_url=site_url,
        title=cfg.output.title,
        limit=cfg.output.feed_item_limit,
        tagging_entity=tagging_entity,
    )
    files: dict[Path, bytes] = {}
    for feed in feeds:
        rss, atom = render_feed(feed)
        files[folder / f"{feed.slug}.xml"] = rss
        files[folder / f"{feed.slug}.atom"] = atom
    files[folder / INDEX_NAME] = render_opml(feeds, title=f"{cfg.output.title} feeds")
    remove_stale_temp_files(folder, now=now)
    written = tuple(path for path, data in files.items() if write_feed(path, data))
    removed = remove_orphan_feeds(folder, keep=set(files))
    write_feed(folder.parent / STAMP_NAME, json.dumps(stamp, indent=1).encode())  # files first
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
