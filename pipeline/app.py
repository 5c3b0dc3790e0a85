"""The library facade: one object that owns what a paperboy installation needs.

    from pipeline import open_paperboy

    with open_paperboy("paperboy.toml") as pb:
        report = pb.run()

:class:`Paperboy` holds the validated :class:`~pipeline.config.Config`, the one :data:`Clock`,
the store (created and migrated on first use), the topics and the HMAC secret, and offers the
jobs (``run``, ``ingest``, ``fetch``, ``publish_feeds``, ``send_edition`` ...) as methods. The
CLI and the web face are printing and HTTP around it. I/O edge: it wires resources; the stages
do the work.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from pipeline.addresses import check_frequency, check_topics, parse_subscriber_csv
from pipeline.bounded import FileRefused, decode_text, read_regular_file
from pipeline.clock import Clock, clock_from_env
from pipeline.config import DEFAULT_SOURCE, SOURCE_KINDS, Config, SourceConfig, load_config
from pipeline.config_checks import source_name_problem
from pipeline.errors import ConfigError
from pipeline.health import assess
from pipeline.records import (
    ALL_TOPICS,
    EditionRef,
    Failure,
    HealthReport,
    IngestReport,
    PageRemoval,
    PageReport,
    StoredPage,
    StoredPaper,
    SubscriberRecord,
)
from pipeline.topics import Topic, TopicScore, load_topics, score_topic, topics_file

if TYPE_CHECKING:
    import httpx
    from sqlalchemy import Engine
    from starlette.applications import Starlette

    from pipeline.feeds.publish import FeedsReport
    from pipeline.mail.alerts import AlertReport
    from pipeline.mail.due import DueWork
    from pipeline.mail.preview import EditionPreview
    from pipeline.mail.send import EmailJob, EmailReport
    from pipeline.mail.transports import Transport
    from pipeline.run import RunReport
    from pipeline.similarity import Likeness
    from pipeline.store.assignments import AssignReport, Progress
    from pipeline.store.subscribe_requests import RateLimits
    from pipeline.store.topic_papers import TopicCounts


CSV_MAX_BYTES = 20_000_000  # a subscriber CSV: ~100 bytes a line, so 200k subscribers


@dataclass(frozen=True)
class ImportReport:
    """What importing a subscriber CSV did."""

    counts: dict[str, int] = field(default_factory=dict)  # added, updated, unchanged, errors
    errors: tuple[str, ...] = ()  # "<file>:<line>: <problem>"


def score_paper(topic: Topic, paper: StoredPaper, likeness: Likeness | None = None) -> TopicScore:
    """How ``paper`` scores against ``topic`` (``like`` topics need the store's ``likeness``)."""
    return score_topic(
        topic,
        title=paper.title,
        abstract=paper.abstract,
        keywords=paper.keywords,
        likeness=likeness,
    )


@dataclass(frozen=True)
class Explanation:
    """Why a paper is in the topics it is in: the stored assignment and the scores behind it."""

    paper: StoredPaper  # its ``topics`` are the stored assignment, in configured order
    scores: list[tuple[Topic, TopicScore]]  # every topic, scored now as the assigner would
    pending: bool  # the paper changed since it was assigned (the next run assigns it)
    reassigning: frozenset[str]  # topics being reassigned after a rules change

    def disagreements(self) -> list[str]:
        """Topics whose stored verdict differs from the score now (pending work explains it)."""
        stored = set(self.paper.topics)
        return [t.slug for t, score in self.scores if score.selected != (t.slug in stored)]


class Paperboy:
    """A paperboy installation: configuration, clock, store, topics, secret and the jobs."""

    def __init__(
        self,
        config: Config,
        *,
        clock: Clock | None = None,
        engine: Engine | None = None,
        topics: Sequence[Topic] | None = None,
    ) -> None:
        self.config = config
        self.clock: Clock = clock or clock_from_env(os.environ)
        self._engine = engine
        self._owns_engine = engine is None
        self._topics = tuple(topics) if topics is not None else None

    # resources ---------------------------------------------------------------------------

    def __enter__(self) -> Paperboy:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Release the store's connections (an engine passed in is left to its owner)."""
        if self._engine is not None and self._owns_engine:
            self._engine.dispose()
            self._engine = None

    @property
    def engine(self) -> Engine:
        """The store's engine, migrated to the newest schema on first use."""
        if self._engine is None:
            from pipeline.store.engine import init_db, make_engine

            engine = make_engine(self.config.database_url)
            init_db(engine)
            self._engine = engine
        return self._engine

    @property
    def topics(self) -> tuple[Topic, ...]:
        """The configured topics (``topics_file``), else the shipped ones."""
        if self._topics is None:
            self._topics = load_topics(topics_file(self.config.topics_file))
        return self._topics

    @functools.cached_property
    def secret(self) -> bytes:
        """The HMAC secret: ``PAPERBOY_SECRET`` if set, else the store's own (made at first use)."""
        if self.config.secrets.secret:
            return self.config.secrets.secret.encode()
        from pipeline.store.meta import stored_secret

        return stored_secret(self.engine)

    def topic(self, slug: str) -> Topic:
        """The configured topic ``slug`` (ConfigError naming the known ones otherwise)."""
        for topic in self.topics:
            if topic.slug == slug:
                return topic
        known = ", ".join(t.slug for t in self.topics) or "(none)"
        raise ConfigError(f"unknown topic {slug!r} (known: {known})")

    def email_job(self) -> EmailJob:
        """Templates, settings, topics and secret of the email stage."""
        from pipeline.mail.send import make_job
        from pipeline.resources import resource_path

        return make_job(
            self.config,
            topics=self.topics,
            secret=self.secret,
            templates=resource_path("templates"),
        )

    def transport(self, day: date | EditionRef) -> Transport:
        """SMTP when configured, else ``.eml`` files in ``<output>/outbox/<edition>/``."""
        from pipeline.mail.transports import transport_for

        return transport_for(self.config, day)

    # the jobs ----------------------------------------------------------------------------

    def run(
        self,
        *,
        pages: Sequence[Path] = (),
        offline: bool = False,
        on_page: Callable[[PageReport], None] | None = None,
        on_failure: Callable[[Failure], None] | None = None,
        client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
        lock_wait: float = 0.0,
        email: bool = True,
        on_progress: Progress | None = None,
    ) -> RunReport:
        """The daily job under the run lock: ingest every source, then feeds, then the emails
        due (``email`` False: none).

        Raises :class:`~pipeline.store.lock.LockedError` when another run holds the lock.
        """
        from pipeline.run import run_once
        from pipeline.store.lock import run_lock

        with run_lock(self.engine, wait=lock_wait):
            return run_once(
                self, extra_pages=pages, offline=offline, on_page=on_page,
                on_failure=on_failure, client=client, sleep=sleep, email=email,
                on_progress=on_progress,
            )  # fmt: skip

    def ingest(
        self,
        paths: Sequence[Path],
        *,
        listing_date: date | None = None,
        source: str = DEFAULT_SOURCE,
        on_page: Callable[[PageReport], None] | None = None,
        on_failure: Callable[[Failure], None] | None = None,
        offline: bool = False,
        client: httpx.Client | None = None,
        on_progress: Progress | None = None,
    ) -> IngestReport:
        """Ingest saved pages (files, or folders searched for page files), then assign topics
        to the papers they brought; with ``[ingest] resolve_titles`` and not ``offline``,
        title-only papers get their arXiv ids looked up."""
        from pipeline.ingest.fetch import make_client
        from pipeline.ingest.parse.common import future_date_problem
        from pipeline.ingest.resolve import TitleResolver
        from pipeline.ingest.saved_pages import ingest_files

        now = self.clock()
        problem = source_name_problem(source)
        if problem is not None:
            raise ConfigError(problem, key="--source")
        if listing_date is not None and future_date_problem(listing_date, today=now.date()):
            raise ConfigError(f"--date {listing_date} is in the future (today is {now.date()} UTC)")
        resolving = self.config.ingest.resolve_titles and not offline
        http = (client or make_client(self.config.http)) if resolving else None  # never offline
        resolver = TitleResolver(self.config.http, http, self.engine, now) if http else None
        try:
            report = ingest_files(
                paths, engine=self.engine, now=now, listing_date=listing_date, source=source,
                max_bytes=self.config.ingest.max_page_bytes, on_page=on_page,
                on_failure=on_failure, resolve=resolver.resolve_page if resolver else None,
            )  # fmt: skip
        finally:
            if http is not None and client is None:
                http.close()
        self.assign(on_progress=on_progress)
        if resolver is not None and (resolver.asked or resolver.from_cache or resolver.stopped):
            return dataclasses.replace(report, notes=(resolver.summary(),))
        return report

    def assign(self, *, on_progress: Progress | None = None) -> AssignReport:
        """Assign topics to every paper lacking a current assignment (new or changed papers;
        every paper for topics whose rules changed), in batches; cheap when none is due."""
        from pipeline.store.assignments import assign_pending

        return assign_pending(self.engine, self.topics, on_progress=on_progress)

    def reassign(self, *, full: bool = False, on_progress: Progress | None = None) -> AssignReport:
        """:meth:`assign`; with ``full``, forget every stored fingerprint (and the corpus
        statistics) first, so every paper is assigned again."""
        from pipeline.store.assignments import reset_assignments

        if full:
            reset_assignments(self.engine)
        return self.assign(on_progress=on_progress)

    def source(self, name: str) -> SourceConfig:
        """The configured source ``name``; ``hf-api``/``hf-html`` work without configuration."""
        for source in self.config.sources:
            if source.name == name:
                return source
        if name in SOURCE_KINDS and name != "files":
            return SourceConfig(name=name, kind=name)
        known = ", ".join(s.name for s in self.config.sources) or "none configured"
        raise ConfigError(f"no source named {name!r} (sources: {known}; built in: hf-api, hf-html)")

    def fetch(
        self, source_name: str, day: date | None = None, *, client: httpx.Client | None = None
    ) -> PageReport:
        """Fetch one listing date (default: today, UTC) from one source and store it."""
        from pipeline.ingest.fetch import make_client
        from pipeline.ingest.parse.common import future_date_problem
        from pipeline.ingest.sources import ingest_source_date

        now = self.clock()
        source = self.source(source_name)
        problem = future_date_problem(day, today=now.date()) if day else None
        if problem is not None:  # before any request (issue 15.8)
            raise ConfigError(problem)
        http = client or make_client(self.config.http)
        try:
            report = ingest_source_date(
                source, day or now.date(), http=self.config.http, client=http,
                engine=self.engine, now=now, max_file_bytes=self.config.ingest.max_page_bytes,
            )  # fmt: skip
        finally:
            if client is None:
                http.close()
        self.assign()
        return report

    def publish_feeds(self, *, force: bool = False) -> FeedsReport:
        """Render RSS and Atom of ``all`` and every topic plus the OPML index, and write them
        (topics are assigned first; nothing is rendered if nothing changed, unless ``force``)."""
        from pipeline.feeds.publish import render_all_feeds

        return render_all_feeds(
            self.config, engine=self.engine, topics=self.topics, now=self.clock(), force=force
        )

    def pages(self, source: str | None = None) -> list[StoredPage]:
        """The stored pages (one per source and listing date), newest first."""
        from pipeline.store.engine import read_session
        from pipeline.store.pages import list_pages

        with read_session(self.engine) as session:
            return list_pages(session=session, source=source)

    def remove_page(
        self, source: str, day: date, *, force: bool = False, dry_run: bool = False
    ) -> PageRemoval:
        """Take page ``(source, day)`` back out of the store, then rewrite the feeds.

        Refuses an edition that was mailed unless ``force``; ``dry_run`` changes nothing. Takes
        the run lock (:class:`~pipeline.errors.LockedError` while a run holds it).
        """
        from pipeline.store.lock import run_lock
        from pipeline.store.pages import remove_page, undo_session

        if dry_run:
            with undo_session(self.engine, dry_run=True) as session:
                removal = remove_page(session=session, source=source, day=day, force=force)
            return dataclasses.replace(removal, dry_run=True)
        with run_lock(self.engine):  # never in the middle of a run's ingest, feeds or emails
            with undo_session(self.engine, dry_run=False) as session:
                removal = remove_page(session=session, source=source, day=day, force=force)
            written = len(self.publish_feeds().written)
        return dataclasses.replace(removal, feeds_written=written)

    def latest_edition(self) -> date:
        """The latest listing date in the store (ConfigError when the store is empty)."""
        from pipeline.store.engine import read_session
        from pipeline.store.papers import last_listing_date

        with read_session(self.engine) as session:
            day = last_listing_date(session=session)
        if day is None:
            raise ConfigError("the store holds no edition yet; run `paperboy ingest` first")
        return day

    def existing_edition(self, day: date) -> date:
        """``day`` when a page lists it or mail was planned for it, else a ConfigError
        (issue 15.10: a date with no edition said "0 of 2 would get a digest")."""
        from pipeline.store.editions import edition_known
        from pipeline.store.engine import read_session
        from pipeline.store.papers import last_listing_date

        with read_session(self.engine) as session:
            if edition_known(session=session, day=day):
                return day
            latest = last_listing_date(session=session)
        hint = f"the latest is {latest}" if latest else "the store holds no page yet"
        raise ConfigError(
            f"no edition {day} in the store (no page lists that date; {hint}): "
            "see `paperboy pages list`"
        )

    def send_edition(
        self,
        day: date | EditionRef | None = None,
        *,
        resend_uncertain: bool = False,
        batch: int | None = None,
        on_start: Callable[[int], None] | None = None,
        on_item: Callable[[], None] | None = None,
        replan: bool = True,
    ) -> EmailReport:
        """Deliver one edition's digests (a date: its daily edition; default: the latest
        date), each at most once, also one not settled yet or outside the catch-up window.

        Freezes the edition's papers first unless they are (papers added to its days later go
        into the next edition as "Added late"). ``batch`` rows (default ``[email] batch``) are
        claimed, sent, then recorded at a time; several processes may share an edition.
        ``replan`` False plans no subscriber it has no row for.
        """
        from pipeline.mail.send import deliver_edition

        if isinstance(day, date):
            day = self.existing_edition(day)  # a date with no edition is an error (15.10)
        edition = day or self.latest_edition()
        return deliver_edition(
            engine=self.engine, day=edition, job=self.email_job(),
            transport=self.transport(edition), clock=self.clock,
            resend_uncertain=resend_uncertain, replan=replan,
            batch=batch or self.config.email.batch, on_start=on_start,
            on_item=on_item,
        )  # fmt: skip

    def find_due(self) -> DueWork:
        """What the email stage would handle now: editions settled and not frozen yet (within
        the catch-up window, for frequencies with active subscribers), frozen ones with rows
        still to send, and the ones waiting to settle."""
        from pipeline.mail.due import find_due
        from pipeline.run import timing

        return find_due(self.engine, now=self.clock(), timing=timing(self.config))

    def due_editions(self) -> list[EditionRef]:
        """Every edition to handle now, oldest first (see :meth:`find_due`)."""
        return self.find_due().editions

    def preview(
        self, refs: Sequence[EditionRef], *, on_request: bool = False
    ) -> list[EditionPreview]:
        """What mailing ``refs`` (in order) would do now, without writing anything, as a run
        would (``on_request``: as ``paperboy emails --edition D`` would)."""
        from pipeline.mail.preview import preview_editions

        return preview_editions(
            self.engine, refs, job=self.email_job(), now=self.clock(),
            settle_hours=self.config.email.settle_hours, on_request=on_request,
        )  # fmt: skip

    def preview_edition(self, day: date | EditionRef | None = None) -> EditionPreview:
        """What sending one edition (default: the latest date's) would do, writing nothing."""
        if isinstance(day, date):
            day = self.existing_edition(day)  # a date with no edition is an error (15.10)
        ref = day if isinstance(day, EditionRef) else EditionRef.daily(day or self.latest_edition())
        return self.preview([ref], on_request=True)[0]

    # subscribers -------------------------------------------------------------------------

    def add_subscriber(
        self, email: str, topics: Sequence[str] = (ALL_TOPICS,), *, frequency: str | None = None
    ) -> tuple[SubscriberRecord, str]:
        """Subscribe ``email`` to ``topics`` (default ``all``: every paper, those in no topic
        under "Other"; again: updates them, re-activates); ``frequency`` daily or weekly (None:
        keep, daily for a new one); returns the record and
        ``added``/``updated``/``unchanged``."""
        from pipeline.store.engine import write_session
        from pipeline.store.subscribers import add_subscriber

        chosen = check_topics(topics, [t.slug for t in self.topics])
        how_often = check_frequency(frequency) if frequency is not None else None
        secret = self.secret
        with write_session(self.engine) as session:
            return add_subscriber(
                session=session, email=email, topics=chosen, secret=secret, now=self.clock(),
                frequency=how_often,
            )  # fmt: skip

    def remove_subscriber(self, email: str) -> bool:
        """Unsubscribe ``email`` (kept as 'unsubscribed'); False when unknown."""
        from pipeline.store.engine import write_session
        from pipeline.store.subscribers import remove_subscriber

        with write_session(self.engine) as session:
            return remove_subscriber(session=session, email=email, now=self.clock())

    def subscribers(self, status: str | None = None) -> list[SubscriberRecord]:
        """Subscribers (optionally of one status), by address."""
        from pipeline.store.engine import read_session
        from pipeline.store.subscribers import select_subscribers

        with read_session(self.engine) as session:
            return select_subscribers(session=session, status=status)

    def topic_notes(self) -> list[str]:
        """Warnings about active subscribers whose chosen topics are no longer configured.

        Issue 15.11: a removed topic's subscribers silently got nothing for it.
        """
        configured = {ALL_TOPICS, *(t.slug for t in self.topics)}  # "all" is always there
        lost: dict[str, int] = {}
        affected = 0
        for sub in self.subscribers("active"):
            missing = [slug for slug in sub.topics if slug not in configured]
            affected += bool(missing)
            for slug in missing:
                lost[slug] = lost.get(slug, 0) + 1
        if not affected:
            return []
        return [
            f"{affected} subscriber(s) chose topics that are no longer configured "
            f"({', '.join(sorted(lost))}) and get nothing for them: change their topics with "
            "`paperboy subscribers add EMAIL --topics ...`"
        ]

    def import_subscribers(self, path: Path) -> ImportReport:
        """Add subscribers from a CSV with ``email`` and ``topics`` columns (and optionally
        ``frequency``: daily or weekly), in one transaction; bad lines are reported and
        skipped."""
        from pipeline.store.engine import write_session
        from pipeline.store.subscribers import add_subscriber

        try:
            data = read_regular_file(path, max_bytes=CSV_MAX_BYTES, hint=": give a CSV file")
            text = decode_text(data)
        except FileRefused as exc:
            raise ConfigError(exc.detail, path=str(path)) from None
        rows = parse_subscriber_csv(text)
        known = [t.slug for t in self.topics]
        secret, now = self.secret, self.clock()
        counts = {"added": 0, "updated": 0, "unchanged": 0, "errors": 0}
        errors: list[str] = []
        with write_session(self.engine) as session:
            for line, email, topics, frequency in rows:
                try:
                    chosen = check_topics(topics, known)
                    how_often = check_frequency(frequency) if frequency else None
                    _record, what = add_subscriber(
                        session=session, email=email, topics=chosen, secret=secret, now=now,
                        frequency=how_often,
                    )  # fmt: skip
                except ConfigError as exc:
                    errors.append(f"{path}:{line}: {exc}")
                    counts["errors"] += 1
                    continue
                counts[what] += 1
        return ImportReport(counts=counts, errors=tuple(errors))

    # the store ---------------------------------------------------------------------------

    def papers(
        self,
        *,
        new_on: date | None = None,
        recurring_on: date | None = None,
        search: str | None = None,
        limit: int | None = None,
    ) -> list[StoredPaper]:
        """Papers, newest first (optionally first seen on / recurring on a day, or matching),
        with their stored topics."""
        from pipeline.store.engine import read_session
        from pipeline.store.papers import select_papers
        from pipeline.store.topic_papers import with_topics

        with read_session(self.engine) as session:
            found = select_papers(
                session=session, new_on=new_on, recurring_on=recurring_on, search=search,
                limit=limit,
            )  # fmt: skip
            order = [t.slug for t in self.topics]
            return with_topics(session=session, papers=found, order=order)

    def paper(self, ref: str) -> StoredPaper:
        """One paper by key, arXiv id or exact title (ConfigError saying how to find one)."""
        from pipeline.store.engine import read_session
        from pipeline.store.papers import select_paper

        with read_session(self.engine) as session:
            found = select_paper(session=session, ref=ref)
        if found is None:
            raise ConfigError(
                f"no paper matches {ref!r}: give a key, an arXiv id or the exact title "
                "(find one with `paperboy papers --search TEXT`)"
            )
        return found

    def explain(self, ref: str) -> Explanation:
        """A paper's stored topics and how it scores against every topic (``like`` topics with
        the store's corpus snapshot and examples, as the assigner scores them)."""
        from pipeline.similarity import paper_text
        from pipeline.store.assignments import reassigning, scorer_for
        from pipeline.store.engine import read_session
        from pipeline.store.topic_papers import assignment_of

        paper = self.paper(ref)
        order = [t.slug for t in self.topics]
        with read_session(self.engine) as session:
            stored, pending = assignment_of(session=session, key=paper.key)
            scorer = scorer_for(session, self.topics)
            scorer.prepare(session, [paper_text(paper.title, paper.abstract)])
            busy = reassigning(session)
        paper = dataclasses.replace(paper, topics=tuple(s for s in order if s in stored))
        scores = [(topic, score_paper(topic, paper, scorer.likeness)) for topic in self.topics]
        return Explanation(paper, scores, pending, frozenset(busy))

    def topic_stats(self, *, days: int | None = None) -> TopicCounts:
        """Per topic, how many papers were first seen in the last ``days`` listing days (up to
        the newest; all papers if None), and how many no topic takes."""
        from datetime import timedelta

        from pipeline.store.assignments import stale_topics
        from pipeline.store.engine import read_session
        from pipeline.store.papers import last_listing_date
        from pipeline.store.topic_papers import topic_counts

        with read_session(self.engine) as session:
            latest = last_listing_date(session=session)
            since = latest - timedelta(days=days - 1) if days and latest else None
            counts = topic_counts(session=session, since=since)
            stale = tuple(stale_topics(session, self.topics))
        return dataclasses.replace(counts, stale=stale)

    def preview_topic(self, slug: str) -> Iterator[tuple[StoredPaper, TopicScore | None]]:
        """Every stored paper newest first, with its score when topic ``slug`` selects it
        (None otherwise), so a caller can count what it scanned and stop when it has enough."""
        from pipeline.similarity import paper_text
        from pipeline.store.assignments import scorer_for
        from pipeline.store.engine import read_session
        from pipeline.store.papers import iter_papers_newest_first

        topic = self.topic(slug)
        with read_session(self.engine) as session:
            scorer = scorer_for(session, [topic])
            for paper, _rank in iter_papers_newest_first(session=session):
                scorer.prepare(session, [paper_text(paper.title, paper.abstract)])
                result = score_paper(topic, paper, scorer.likeness)
                yield paper, result if result.selected else None

    def check(self) -> tuple[list[str], dict[str, int]]:
        """Broken store invariants (empty when healthy) and what the store holds."""
        from pipeline.store.engine import read_session
        from pipeline.store.integrity import check_store
        from pipeline.store.papers import store_counts

        with read_session(self.engine) as session:
            return check_store(session=session), store_counts(session=session)

    def status(self) -> HealthReport:
        """What needs a person now (``pipeline.health``): runs, sources, days, deliveries."""
        from pipeline.store.engine import read_session
        from pipeline.store.health import health_snapshot

        now, cfg = self.clock(), self.config
        with read_session(self.engine) as session:
            snapshot = health_snapshot(
                session=session, sources=[s for s in cfg.sources if s.enabled], now=now,
                window_days=cfg.health.window_days,
                lease=timedelta(minutes=cfg.email.lease_minutes),
            )  # fmt: skip
        return assess(snapshot, now=now, cfg=cfg.health)

    def alert_transport(self) -> Transport:
        """SMTP when configured, else ``.eml`` files in ``<output>/outbox/alerts/``."""
        from pipeline.mail.alerts import alert_transport

        return alert_transport(self.config)

    def alert(self, report: HealthReport) -> AlertReport:
        """Mail ``[alerts] to`` the report's problems not mailed today (ConfigError if unset)."""
        from pipeline.mail.alerts import send_alerts

        if not self.config.alert_recipients:
            raise ConfigError(
                "no operator address: set [alerts] to = \"you@example.org\"",
                path=self.config.where, key="alerts.to",
            )  # fmt: skip
        return send_alerts(
            engine=self.engine, cfg=self.config, report=report,
            transport=self.alert_transport(), now=self.clock(),
        )  # fmt: skip

    def init(self, *, feed_authority: str | None = None) -> str:
        """Create the store and the output folder; returns the frozen feed GUID authority."""
        from pipeline.feeds.publish import feed_tagging_entity

        entity = feed_tagging_entity(self.engine, now=self.clock(), authority=feed_authority)
        self.config.output_dir.mkdir(parents=True, exist_ok=True)
        return entity

    def web_app(self, *, limits: RateLimits | None = None) -> Starlette:
        """The ASGI app of ``paperboy serve`` over this installation."""
        from pipeline.web.app import create_app

        return create_app(self, limits=limits)


def open_paperboy(
    config: Config | Path | str | None = None,
    *,
    clock: Clock | None = None,
    env: Mapping[str, str] | None = None,
    engine: Engine | None = None,
    topics: Sequence[Topic] | None = None,
) -> Paperboy:
    """A :class:`Paperboy` for ``config``: a Config, a TOML file, or None for
    ``$PAPERBOY_CONFIG`` / the embedded defaults rooted at the current folder."""
    if not isinstance(config, Config):
        path = Path(config) if config is not None else None
        config = load_config(path, env=env)
    if clock is None:
        clock = clock_from_env(os.environ if env is None else env)
    return Paperboy(config, clock=clock, engine=engine, topics=topics)
