"""Frozen records that cross stages (parse -> diff -> store -> topics -> render -> deliver).

Pure data; no I/O. SQLModel tables stay inside :mod:`pipeline.store`, whose query functions
return these records, so renderers never touch a database session.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from urllib.parse import quote, quote_plus, urlsplit

from pipeline.errors import ConfigError
from pipeline.identity import first_sentence


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
    # What the Hugging Face entry says besides the text (docs/hf-formats.md §2); None when the
    # source does not say (text pages say none of it).
    comments: int | None = None  # numComments
    ai_summary: str | None = None  # paper.ai_summary: a one-sentence TL;DR, since 2025-03
    github_repo: str | None = None  # paper.githubRepo (http(s) only)
    github_stars: int | None = None  # paper.githubStars
    project_page: str | None = None  # paper.projectPage (http(s) only)
    hf_id: str | None = None  # paper.id when it is not an arXiv id (checked, URL-safe)


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
    # papers this page put into the store now (not stored before it, on any date); the rest of
    # ``papers`` was already stored. ``new`` is about dates: first listed on this page's date.
    added: int = 0

    @property
    def already_stored(self) -> int:
        """Papers of the page the store held before this page was stored."""
        return self.papers - self.added

    def as_dict(self) -> dict[str, object]:
        """JSON-ready form used by ``paperboy ingest --json``."""
        return {
            "source": self.origin,
            "name": self.source,
            "date": self.listing_date.isoformat(),
            "papers": self.papers,
            "new": self.new,
            "recurring": self.recurring,
            "added": self.added,
            "already_stored": self.already_stored,
            "unchanged": self.unchanged,
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
    notes: tuple[str, ...] = ()  # e.g. what title look-ups did

    @property
    def ok(self) -> bool:
        """True when no page failed."""
        return not self.failures


@dataclass(frozen=True, slots=True)
class StoredPage:
    """A page the store holds: one source's listing of one date (``paperboy pages list``)."""

    source: str
    listing_date: date
    papers: int
    origin: str  # the file or URL it was last read from
    ingested_at: datetime
    mailed: int  # messages of its edition sent, uncertain or in flight


@dataclass(frozen=True, slots=True)
class PageRemoval:
    """What removing a page changed (or, in a dry run, would change)."""

    source: str
    listing_date: date
    appearances: int  # appearances removed
    papers_deleted: int  # papers listed on no other page, removed with their aliases
    papers_changed: int  # papers left whose first/last seen or times seen changed
    mailed: int  # messages of the edition that were sent, uncertain or in flight
    edition_gone: bool  # no other source lists this date
    cancelled: int = 0  # pending or retrying messages of the edition, cancelled
    feeds_written: int = 0  # feed files rewritten afterwards
    dry_run: bool = False


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
    # The community's latest word (pipeline.store.paper_meta); None when no source said.
    upvotes: int | None = None
    comments: int | None = None
    ai_summary: str | None = None
    github_repo: str | None = None
    github_stars: int | None = None
    project_page: str | None = None
    hf_id: str | None = None  # Hugging Face paper id of a paper without arXiv id

    @property
    def hf_url(self) -> str | None:
        """The paper's Hugging Face page (by arXiv id, else by its Hugging Face id), or None."""
        if self.arxiv_id:
            return f"https://huggingface.co/papers/{quote(self.arxiv_id, safe='/')}"
        if self.hf_id:
            return f"https://huggingface.co/papers/{quote(self.hf_id, safe='')}"
        return None

    @property
    def url(self) -> str:
        """Best link to the paper: its Hugging Face page when known, else a Hugging Face papers
        search for its title (text pages carry no id)."""
        return self.hf_url or f"https://huggingface.co/papers?q={quote_plus(self.title)}"

    @property
    def arxiv_url(self) -> str | None:
        """The arXiv abstract page, when the arXiv id is known."""
        return f"https://arxiv.org/abs/{quote(self.arxiv_id, safe='/')}" if self.arxiv_id else None

    @property
    def pdf_url(self) -> str | None:
        """The arXiv PDF, when the arXiv id is known."""
        return f"https://arxiv.org/pdf/{quote(self.arxiv_id, safe='/')}" if self.arxiv_id else None

    @property
    def code_url(self) -> str | None:
        """The code repository: the source's ``githubRepo``, else the first link to a code host
        (never any other link: issue 15 item 11)."""
        if self.github_repo and is_web_url(self.github_repo):
            return self.github_repo
        return next((link for link in self.links if is_code_url(link)), None)

    @property
    def project_url(self) -> str | None:
        """The project page the source names (``projectPage``), if any."""
        page = self.project_page
        return page if page and is_web_url(page) and page != self.code_url else None

    @property
    def other_url(self) -> str | None:
        """Without code or project page, the first other link of the abstract (text pages)."""
        if self.code_url or self.project_url:
            return None
        return next((link for link in self.links if _is_other_link(link)), None)

    @property
    def labelled_links(self) -> tuple[tuple[str, str], ...]:
        """``(label, url)`` of every link a reader may want, in the order shown: the Hugging Face
        page (or a search for the title), arXiv, PDF, code, project page or other link. Check
        URLs before putting them in an href (``safe_url``/``is_web_url``)."""
        hf = ("Hugging Face", self.hf_url) if self.hf_url else ("Search on Hugging Face", self.url)
        found = [
            hf,
            ("arXiv", self.arxiv_url),
            ("PDF", self.pdf_url),
            ("Code", self.code_url),
            ("Project page", self.project_url),
            ("Link", self.other_url),
        ]
        return tuple((label, url) for label, url in found if url)

    @property
    def tldr(self) -> str:
        """One line: the source's AI summary when there is one, else the abstract's first
        sentence."""
        return self.ai_summary or first_sentence(self.abstract)[0]

    @property
    def abstract_rest(self) -> str:
        """The abstract without what :attr:`tldr` shows already (its first sentence)."""
        return self.abstract if self.ai_summary else first_sentence(self.abstract)[1]


# Hosts whose links are code repositories; anything else is never labelled "code".
CODE_HOSTS = ("github.com", "gitlab.com", "bitbucket.org", "codeberg.org")


def _host(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def is_web_url(url: str) -> bool:
    """True for an absolute http(s) URL with a host."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


def is_code_url(url: str) -> bool:
    """True for a web link to a code host (GitHub, GitLab, Bitbucket, Codeberg)."""
    host = _host(url)
    return is_web_url(url) and (
        host.startswith("gitlab.") or any(host == h or host.endswith("." + h) for h in CODE_HOSTS)
    )


def _is_other_link(url: str) -> bool:
    host = _host(url)
    paper_page = host.endswith("huggingface.co") and "/papers" in url
    return is_web_url(url) and not paper_page and not host.endswith("arxiv.org")


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


# The subscription to every paper (and the feed of every paper, feeds/all.xml): a subscriber
# with it gets the papers of each topic and, under "Other", those no topic takes.
ALL_TOPICS = "all"


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
        """The papers of any of ``slugs`` (each paper once, whatever its number of topics);
        every paper for :data:`ALL_TOPICS`."""
        wanted = set(slugs)
        if ALL_TOPICS in wanted:
            return self
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


# Health (issue 13): what `paperboy status` and GET /health read from the store, and judge.


@dataclass(frozen=True, slots=True)
class RunRecord:
    """One ``paperboy run`` as the run log holds it."""

    started_at: datetime
    finished_at: datetime | None  # None: still running, or it died
    ok: bool | None
    pages: int
    new_papers: int
    failures: int


@dataclass(frozen=True, slots=True)
class SourceHealth:
    """One source: how it fared in the runs and what the store holds of it."""

    name: str
    kind: str  # hf-api, hf-html, files; "" for a source that is not configured
    configured: bool  # enabled in the configuration (only these are judged)
    last_attempt_at: datetime | None = None
    last_success_at: datetime | None = None  # the last run in which every date of it fetched
    consecutive_failures: int = 0  # runs in a row in which a date of it failed
    last_error: str | None = None
    last_day: date | None = None  # the latest listing date stored
    last_day_papers: int = 0
    last_day_with_papers: date | None = None
    recent_days: tuple[tuple[date, int], ...] = ()  # (listing date, papers) in the window


@dataclass(frozen=True, slots=True)
class EditionHealth:
    """One edition's digests by outbox state."""

    day: date
    marked: bool  # got new content whose outbox rows are not planned yet
    states: dict[str, int] = field(default_factory=dict)  # every outbox state, zero when none
    recent: dict[str, int] = field(default_factory=dict)  # of them, rows of the window (below)
    stuck: int = 0  # rows left 'sending' longer than the lease

    # A row is of the window when its edition is, or when it was last claimed in the window
    # (a catch-up run sends old editions: their failures are news).


@dataclass(frozen=True, slots=True)
class HealthSnapshot:
    """What the store says about runs, sources and deliveries (no addresses, no secrets)."""

    today: date  # UTC
    window_start: date  # first day of the window (``[health] window_days``)
    last_run: RunRecord | None
    last_finished: RunRecord | None
    sources: tuple[SourceHealth, ...]
    editions: tuple[EditionHealth, ...]  # recent, due, in flight or marked; newest first
    bouncing: int  # subscribers flagged bouncing


@dataclass(frozen=True, slots=True)
class Problem:
    """Something that needs a person; ``key`` is stable while the problem lasts."""

    key: str  # e.g. "source:hf-daily", "empty-weekday:hf-daily:2026-08-19"
    kind: str  # run | source | empty-weekday | deliveries
    title: str  # a few words, for a subject line
    message: str
    hint: str  # what to do about it
    daily: bool = False  # a lasting condition: mailed again each day; else mailed once per key


@dataclass(frozen=True, slots=True)
class HealthReport:
    """A snapshot and the problems found in it at ``checked_at``."""

    checked_at: datetime
    snapshot: HealthSnapshot
    problems: tuple[Problem, ...]

    @property
    def ok(self) -> bool:
        """True when nothing needs a person."""
        return not self.problems
