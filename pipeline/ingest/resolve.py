"""Text pages give titles only: find their arXiv ids. I/O edge: network (search) and the store.

For each paper of a page that has neither an arXiv id nor a Hugging Face id,
:class:`TitleResolver` asks the Hugging Face papers search (``GET {hf_base_url}/api/papers/search
?q=<title>&limit=5``, the endpoint ``huggingface_hub``'s ``list_papers`` uses; docs/hf-formats.md
§1) and takes the arXiv id only when exactly one hit has exactly the same title after folding
(:func:`pipeline.ingest.parse.hf_search.exact_match`). The page then goes to the store with the
id, where the usual path merges it: a title-only paper that gains an arXiv id stays one paper and
keeps its first key (docs/reliability.md §1.4, check F6), so feed GUIDs never change.

Rate limits and politeness (docs/reliability.md §4): every answer is cached in the store
(:mod:`pipeline.store.title_lookups`), hits for good, misses for :data:`MISS_RETRY`, so a title
asked once is not asked again; requests go through :func:`pipeline.ingest.fetch.fetch_url`
(retries with backoff, ``Retry-After`` and ``RateLimit``, the deadline); a server asking to wait
past the cap defers the search endpoint (recorded like a source's deferral), and any failure
stops the look-ups for this run (the titles stay title-only and are asked on a later run). At
most :data:`MAX_LOOKUPS` requests per run leave room in the anonymous budget (500 API calls per
5 minutes per IP) for the daily fetch. It runs only when ``[ingest] resolve_titles`` is on, and
never offline (the caller does not build it).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import quote, urlencode

from pipeline.config import HttpConfig
from pipeline.errors import FetchError, ParseError
from pipeline.identity import title_key
from pipeline.ingest.fetch import fetch_url
from pipeline.ingest.parse.charset import decode_json_bytes
from pipeline.ingest.parse.common import content_hash
from pipeline.ingest.parse.hf_search import exact_match, parse_search_results
from pipeline.records import Page, ParsedPaper
from pipeline.store.engine import read_session, write_session
from pipeline.store.fetch_state import load_fetch_state, save_deferral
from pipeline.store.title_lookups import Lookup, cached_lookups, save_lookup

if TYPE_CHECKING:
    import httpx
    from sqlalchemy import Engine

SEARCH_LIMIT = 5  # hits per title: an exact title is among the first few or nowhere
MAX_LOOKUPS = 100  # requests per run; the daily fetch needs ~15 of the 500 per 5 minutes
# A miss is asked again after this long: the paper may reach Hugging Face later. Most misses are
# near misses (the page shows another spelling), which asking again will not change.
MISS_RETRY = timedelta(days=14)


def search_endpoint(base: str) -> str:
    """The search endpoint (without query): the key its deferral is recorded under."""
    return f"{base.rstrip('/')}/api/papers/search"


def search_url(base: str, title: str) -> str:
    """The search URL for ``title``."""
    query = urlencode({"q": title, "limit": SEARCH_LIMIT}, quote_via=quote)
    return f"{search_endpoint(base)}?{query}"


def _wanted(paper: ParsedPaper) -> bool:
    return paper.arxiv_id is None and paper.hf_id is None


@dataclass
class TitleResolver:
    """Resolves the titles of pages, for one run (counts what it did, stops when told to)."""

    http: HttpConfig
    client: httpx.Client
    engine: Engine
    now: datetime
    sleep: Callable[[float], None] = time.sleep
    monotonic: Callable[[], float] = time.monotonic
    max_lookups: int = MAX_LOOKUPS
    asked: int = 0
    resolved: int = 0
    from_cache: int = 0
    stopped: str = ""  # why look-ups stopped for this run ("" while they go on)
    seen: set[str] = field(default_factory=set)

    def resolve_page(self, page: Page) -> Page:
        """``page`` with the arXiv ids found for its title-only papers (cache, then search)."""
        titles = {title_key(p.title): p.title for p in page.papers if _wanted(p)}
        if not titles:
            return page
        with read_session(self.engine) as session:
            cached = cached_lookups(session=session, keys=titles)
            _validators, deferred = load_fetch_state(
                session=session, url=search_endpoint(self.http.hf_base_url)
            )
        if deferred is not None and deferred > self.now and not self.stopped:
            self.stopped = f"search deferred until {deferred:%Y-%m-%d %H:%M:%S} UTC"
        found = {key: c.arxiv_id for key, c in cached.items() if c.arxiv_id}
        self.from_cache += len({key for key in found if key not in self.seen})
        for key in sorted(titles):
            lookup = cached.get(key)
            if (lookup is None or lookup.due(self.now)) and key not in self.seen:
                arxiv_id = self._ask(key, titles[key])
                if arxiv_id:
                    found[key] = arxiv_id
            self.seen.add(key)
        if not found:
            return page
        papers = tuple(
            dataclasses.replace(p, arxiv_id=found[title_key(p.title)])
            if _wanted(p) and title_key(p.title) in found
            else p
            for p in page.papers
        )
        return dataclasses.replace(page, papers=papers, content_hash=content_hash(papers))

    def _ask(self, key: str, title: str) -> str | None:
        """Search ``title`` and cache the answer; None on a miss or when look-ups stopped."""
        if self.stopped or self.asked >= self.max_lookups:
            self.stopped = self.stopped or f"at most {self.max_lookups} look-ups per run"
            return None
        url = search_url(self.http.hf_base_url, title)
        self.asked += 1
        try:
            fetched = fetch_url(
                self.client, url, http=self.http, now=self.now, accept="application/json",
                sleep=self.sleep, monotonic=self.monotonic,
            )  # fmt: skip
            hits = parse_search_results(decode_json_bytes(fetched.body, origin=url), origin=url)
        except FetchError as exc:
            if exc.deferred_until is not None:
                with write_session(self.engine) as session:
                    save_deferral(
                        session=session,
                        url=search_endpoint(self.http.hf_base_url),
                        until=exc.deferred_until,
                    )
            self.stopped = str(exc)
            return None
        except ParseError as exc:
            self.stopped = str(exc)
            return None
        arxiv_id = exact_match(title, hits)
        retry = None if arxiv_id else self.now + MISS_RETRY
        with write_session(self.engine) as session:
            save_lookup(session=session, lookup=Lookup(key, arxiv_id, self.now, retry))
        self.resolved += arxiv_id is not None
        return arxiv_id

    def summary(self) -> str:
        """One line for the run's notes."""
        line = (
            f"title look-ups: {self.asked} asked, {self.resolved} resolved, "
            f"{self.from_cache} from the cache"
        )
        return f"{line}; stopped: {self.stopped}" if self.stopped else line
