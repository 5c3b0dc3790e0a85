"""Frozen records that cross stages (parse -> diff -> store -> topics -> render -> deliver).

Pure data; no I/O. SQLModel tables stay inside :mod:`pipeline.store`, whose query functions
return these records, so renderers never touch a database session.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from urllib.parse import quote, quote_plus

from pipeline.errors import ConfigError


@dataclass(frozen=True, slots=True)
class ParsedPaper:
    """One paper as a page lists it (before identity is resolved against the store)."""

    title: str
    abstract: str
    rank: int  # 1-based position on the page
    arxiv_id: str | None = None  # bare, unversioned, e.g. "2309.17453"; None for text pages
    links: tuple[str, ...] = ()  # code/project links found in the abstract or given by the source
    authors: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    upvotes: int | None = None


@dataclass(frozen=True, slots=True)
class Page:
    """One digest page: a listing date and its papers, from one source."""

    source: str  # logical source name ("saved-pages", "hf-api", ...): part of the digest identity
    origin: str  # where the bytes came from (a file path or a URL), for messages
    listing_date: date
    papers: tuple[ParsedPaper, ...]
    content_hash: str  # sha256 of the normalised content, to notice changed re-fetches


@dataclass(frozen=True, slots=True)
class Changes:
    """What a page changes, by paper key: first seen on this date, or seen earlier."""

    new: tuple[str, ...]
    recurring: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PageReport:
    """What ingesting one page did."""

    source: str
    origin: str
    listing_date: date
    papers: int
    new: int
    recurring: int
    unchanged: bool = False  # the same content had been ingested before

    def as_dict(self) -> dict[str, object]:
        """JSON-ready form used by ``paperboy ingest --json``."""
        return {
            "source": self.origin,
            "name": self.source,
            "date": self.listing_date.isoformat(),
            "papers": self.papers,
            "new": self.new,
            "recurring": self.recurring,
        }


@dataclass(frozen=True, slots=True)
class Failure:
    """A page or source that failed; the rest of the run went on."""

    origin: str
    message: str

    def as_dict(self) -> dict[str, str]:
        """JSON-ready form."""
        return {"source": self.origin, "error": self.message}


@dataclass(frozen=True, slots=True)
class IngestReport:
    """What an ingest run did, page by page."""

    pages: tuple[PageReport, ...] = ()
    failures: tuple[Failure, ...] = ()

    @property
    def ok(self) -> bool:
        """True when no page failed."""
        return not self.failures


@dataclass(frozen=True, slots=True)
class StoredPaper:
    """A paper as the store knows it, with its appearance history."""

    key: str  # stable identity, never changes once assigned (feeds derive GUIDs from it)
    title: str
    abstract: str
    arxiv_id: str | None
    links: tuple[str, ...]
    first_seen: date
    last_seen: date
    times_seen: int  # distinct listing dates the paper appeared on
    authors: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    topics: tuple[str, ...] = field(default=())

    @property
    def url(self) -> str:
        """Best link to the paper: its Hugging Face page when the arXiv id is known, else a
        Hugging Face papers search for its title (text pages carry no id)."""
        if self.arxiv_id:
            return f"https://huggingface.co/papers/{quote(self.arxiv_id, safe='/')}"
        return f"https://huggingface.co/papers?q={quote_plus(self.title)}"


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """One paper as a feed item. Every field derives from stored data, never from the run."""

    guid: str  # tag: URI from the paper key; the same in every feed and forever
    title: str  # plain text
    link: str  # absolute http(s) URL
    summary_html: str  # escaped HTML (abstract, links, appearance history)
    published: datetime  # aware UTC: the first-seen instant (listing date + rank offset)


@dataclass(frozen=True, slots=True)
class FeedInput:
    """Everything one topic feed (RSS and Atom) is rendered from."""

    slug: str
    feed_id: str  # tag: URI of the feed
    title: str
    description: str
    site_url: str  # the page the feed is about (channel link / rel=alternate)
    rss_url: str  # where the RSS file is served (rel=self)
    atom_url: str  # where the Atom file is served (rel=self)
    author: str
    updated: datetime  # aware UTC, derived from the entries' data
    entries: tuple[FeedEntry, ...]  # in feed order (newest first)


FREQUENCIES = ("daily", "weekly")  # how often a subscriber gets a digest (issue 13)
EDITION_KINDS = FREQUENCIES  # a daily edition per listing date, a weekly one per ISO week


@dataclass(frozen=True, slots=True)
class EditionRef:
    """Which edition: ``daily`` (one listing date) or ``weekly`` (an ISO week, by its Monday)."""

    kind: str  # one of EDITION_KINDS
    day: date  # the listing date; for a weekly edition the Monday of its ISO week

    @classmethod
    def daily(cls, day: date) -> EditionRef:
        """The daily edition of listing date ``day``."""
        return cls("daily", day)

    @classmethod
    def weekly(cls, day: date) -> EditionRef:
        """The weekly edition of the ISO week holding ``day``."""
        return cls("weekly", day - timedelta(days=day.weekday()))

    @classmethod
    def parse_week(cls, text: str) -> EditionRef:
        """``2026-W05`` (ISO 8601 week) as a weekly edition; ConfigError saying the format."""
        try:
            monday = date.fromisoformat(f"{text.strip()}-1")
        except ValueError:
            raise ConfigError(f"{text!r} is not an ISO week like 2026-W05") from None
        return cls("weekly", monday)

    @property
    def label(self) -> str:
        """``2026-08-20`` for a daily edition, ``2026-W34`` for a weekly one."""
        if self.kind == "weekly":
            year, week, _weekday = self.day.isocalendar()
            return f"{year}-W{week:02d}"
        return self.day.isoformat()

    @property
    def last_day(self) -> date:
        """The last listing date the edition covers."""
        return self.day + timedelta(days=6 if self.kind == "weekly" else 0)

    @property
    def sort_key(self) -> tuple[date, str]:
        """Oldest first, by the last day covered (a week after its Saturday's daily edition)."""
        return (self.last_day, self.kind)


@dataclass(frozen=True, slots=True)
class FrozenPaper:
    """A paper's listing on one date as a frozen edition carries it (topics fixed at freezing)."""

    paper: StoredPaper  # with the topics assigned when the edition was frozen
    listed_on: date
    rank: int  # best rank on that date's pages
    recurring: bool  # listed on an earlier date too
    late: bool  # reached ``listed_on`` after that date's edition was frozen


@dataclass(frozen=True, slots=True)
class LatePaper:
    """A paper that joined an earlier listing date after that date's edition was frozen."""

    listed_on: date
    paper: StoredPaper


@dataclass(frozen=True, slots=True)
class Edition:
    """One edition's papers. Daily: one listing date's papers, first seen that day (new) and
    seen before (recurring). Weekly: the week's papers best first in ``new``. Both: ``late``,
    papers that reached an earlier edition's days after it went out ("Added late")."""

    day: date
    new: tuple[StoredPaper, ...]
    recurring: tuple[StoredPaper, ...]
    kind: str = "daily"
    late: tuple[LatePaper, ...] = ()

    @property
    def ref(self) -> EditionRef:
        """Which edition this is."""
        return EditionRef(self.kind, self.day)

    def for_topics(self, slugs: Sequence[str]) -> Edition:
        """The papers of any of ``slugs`` (each paper once, whatever its number of topics)."""
        wanted = set(slugs)
        return Edition(
            day=self.day,
            new=tuple(p for p in self.new if wanted & set(p.topics)),
            recurring=tuple(p for p in self.recurring if wanted & set(p.topics)),
            kind=self.kind,
            late=tuple(p for p in self.late if wanted & set(p.paper.topics)),
        )

    @property
    def empty(self) -> bool:
        """True when the edition lists no paper."""
        return not self.new and not self.recurring and not self.late


SUBSCRIBER_STATUSES = ("active", "unsubscribed", "bouncing")


@dataclass(frozen=True, slots=True)
class SubscriberRecord:
    """A subscriber as the email stage sees it."""

    id: int
    email: str
    topics: tuple[str, ...]
    status: str  # one of SUBSCRIBER_STATUSES
    token_nonce: str
    frequency: str = "daily"  # one of FREQUENCIES (from ``frequency_from`` on, when set)
    previous_frequency: str | None = None  # in effect before ``frequency_from``
    frequency_from: date | None = None  # a Monday: a change of frequency takes effect then
    created_at: datetime | None = None  # when the address subscribed first

    def frequency_on(self, day: date) -> str:
        """How often this subscriber is mailed for listing date ``day``: a change of frequency
        takes effect on the Monday after it was made, so no week is mailed twice or never."""
        if self.frequency_from is not None and day < self.frequency_from:
            return self.previous_frequency or self.frequency
        return self.frequency

    def frequency_text(self, today: date) -> str:
        """``weekly``, or ``daily until 2026-08-23, then weekly`` while a change is pending."""
        since = self.frequency_from
        if since is None or today >= since or not self.previous_frequency:
            return self.frequency
        until = since - timedelta(days=1)
        return f"{self.previous_frequency} until {until.isoformat()}, then {self.frequency}"


@dataclass(frozen=True, slots=True)
class OutboxItem:
    """A due outbox row with what sending it needs."""

    id: int
    subscriber_id: int
    email: str
    topics: tuple[str, ...]  # as planned (frozen on the row), else the subscriber's current ones
    status: str
    token_nonce: str
    message_id: str
    attempts: int
    kind: str = "daily"  # the edition's kind (EDITION_KINDS)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one delivery attempt did, as the outbox records it."""

    state: str  # sent | retry | failed | uncertain | skipped | pending (claim handed back)
    code: int | None = None
    detail: str = ""
    stop: bool = False  # the connection is unusable or the problem is not this message's
    bounce: bool = False  # the address was refused permanently


@dataclass(frozen=True, slots=True)
class Validators:
    """Conditional-GET validators of a previous response."""

    etag: str | None = None
    last_modified: str | None = None

    def headers(self) -> dict[str, str]:
        """Request headers that ask the server for 304 if nothing changed."""
        found = {"If-None-Match": self.etag, "If-Modified-Since": self.last_modified}
        return {name: value for name, value in found.items() if value}
