"""The daily job: ingest every source (catching up missed days), render feeds, send emails.

The only orchestrator. Stages run in a fixed order; a failing source or date is recorded in the
report and the rest of the run goes on, so what succeeded is still delivered, and the exit
status tells cron that something failed. Every stage is idempotent per edition (listing date),
so running the job twice (cron and scheduler overlapping, the DST fall-back double fire) changes
nothing the second time. Feeds follow every new paper at once; an email edition goes out once
it has settled (:mod:`pipeline.mail.settle`), and papers that reach its day afterwards go into
the next one as "Added late" (:mod:`pipeline.mail.plan`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.config import DEFAULT_SOURCE, Config, SourceConfig
from pipeline.errors import FetchError, PipelineError
from pipeline.feeds.publish import FeedsReport, render_all_feeds
from pipeline.ingest.fetch import make_client
from pipeline.ingest.resolve import TitleResolver
from pipeline.ingest.saved_pages import ingest_files
from pipeline.ingest.sources import ingest_source_date
from pipeline.mail.due import find_due
from pipeline.mail.send import EmailReport, deliver_edition
from pipeline.mail.settle import Timing
from pipeline.records import Failure, PageReport
from pipeline.store.assignments import AssignReport, Progress, assign_pending
from pipeline.store.engine import read_session
from pipeline.store.health import begin_run, finish_run, note_sources
from pipeline.store.papers import last_listing_date, listing_dates

if TYPE_CHECKING:
    import httpx
    from sqlalchemy import Engine

    from pipeline.app import Paperboy

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunReport:
    """What one run did, stage by stage."""

    pages: tuple[PageReport, ...] = ()
    failures: tuple[Failure, ...] = ()
    notes: tuple[str, ...] = ()
    topics: AssignReport | None = None
    feeds: FeedsReport | None = None
    editions: tuple[date, ...] = field(default=())  # listing dates that got new content
    emails: tuple[EmailReport, ...] = field(default=())
    email_note: str = ""  # why nothing was mailed ("" when something was)

    @property
    def ok(self) -> bool:
        """True when no source or stage failed."""
        return not self.failures


# Today and yesterday are always fetched again: a day's list grows until the day is over, and
# its email edition is frozen only after that (pipeline/mail/settle.py), so the run that mails
# it has just read its whole list; papers added even later are then mailed as "Added late".
RECHECK_DAYS = 2


def dates_to_fetch(have: set[date], last: date | None, today: date, *, max_days: int) -> list[date]:
    """Listing dates to fetch, oldest first, within the latest ``max_days`` days up to today:
    every date not stored yet (missed days, days that failed before), the last date that listed
    papers (``last``) and later, and yesterday (day lists grow during the day, so recent ones
    are fetched again).
    """
    first = today - timedelta(days=max_days - 1)
    window = [first + timedelta(days=n) for n in range(max_days)]
    recent = today - timedelta(days=RECHECK_DAYS - 1)
    return [
        day
        for day in window
        if day not in have or (last is not None and day >= last) or day >= recent
    ]


def skipped_days(days: Sequence[date]) -> str:
    """How a run reports the dates of a source it stopped trying (the next run fetches them)."""
    span = f"{days[0]}" if len(days) == 1 else f"{days[0]} to {days[-1]}"
    return f"source skipped for this run: {len(days)} day(s) not fetched ({span})"


@dataclass
class _Progress:
    pages: list[PageReport] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    on_page: Callable[[PageReport], None] | None = None
    on_failure: Callable[[Failure], None] | None = None
    sources: dict[str, str | None] = field(default_factory=dict)  # name -> first error or None

    def source_done(self, name: str, failures_before: int) -> None:
        """Record whether source ``name`` failed since ``failures_before`` failures (health)."""
        new = self.failures[failures_before:]
        self.sources[name] = f"{new[0].origin}: {new[0].message}" if new else None

    def page(self, report: PageReport) -> None:
        self.pages.append(report)
        if self.on_page:
            self.on_page(report)

    def fail(self, origin: str, message: str) -> None:
        failure = Failure(origin, message)
        self.failures.append(failure)
        if self.on_failure:
            self.on_failure(failure)


def _ingest_live(
    cfg: Config,
    source: SourceConfig,
    *,
    engine: Engine,
    client: httpx.Client,
    now: datetime,
    sleep: Callable[[float], None],
    progress: _Progress,
) -> None:
    today = now.astimezone(UTC).date()
    first = today - timedelta(days=cfg.ingest.catch_up_max_days - 1)
    with read_session(engine) as session:
        last = last_listing_date(session=session, source=source.name)
        # the last day that listed papers is fetched again until a later one does: its list
        # may have been read while it was still growing (empty weekend days come after it)
        listed = last_listing_date(session=session, source=source.name, with_papers=True)
        have = listing_dates(session=session, source=source.name, start=first, end=today)
    days = dates_to_fetch(have, listed or last, today, max_days=cfg.ingest.catch_up_max_days)
    if last is not None and last < first - timedelta(days=1):
        missed = (first - last).days - 1
        progress.notes.append(
            f"source {source.name}: {missed} older missed day(s) not fetched "
            f"(catch_up_max_days = {cfg.ingest.catch_up_max_days})"
        )
    for number, day in enumerate(days):
        try:
            report = ingest_source_date(
                source, day, http=cfg.http, client=client, engine=engine, now=now, sleep=sleep,
                max_file_bytes=cfg.ingest.max_page_bytes,
            )  # fmt: skip
        except FetchError as exc:
            if exc.source_unreachable:  # every other date would cost the same: one line, stop
                progress.fail(source.name, f"{exc}; {skipped_days(days[number:])}")
                return
            progress.fail(f"{source.name} {day}", str(exc))
            if exc.deferred_until is not None:  # rate-limited: stop this source for this run
                progress.notes.append(f"source {source.name}: deferred until {exc.deferred_until}")
                return
            continue
        except PipelineError as exc:
            progress.fail(f"{source.name} {day}", str(exc))
            continue
        progress.page(report)


def ingest_all(
    cfg: Config,
    *,
    engine: Engine,
    now: datetime,
    progress: _Progress,
    extra_pages: Sequence[Path] = (),
    client: httpx.Client | None = None,
    sleep: Callable[[float], None] = time.sleep,
    offline: bool = False,
) -> None:
    """Ingest every enabled source, then ``extra_pages``; failures go to ``progress``."""
    live = [s for s in cfg.sources if s.enabled and s.kind != "files"]
    if offline and live:
        progress.notes.append(f"offline: skipped {', '.join(s.name for s in live)}")
        live = []
    files = bool(extra_pages) or any(s.enabled and s.kind == "files" for s in cfg.sources)
    resolving = cfg.ingest.resolve_titles and files and not offline  # never offline
    own_client = client is None and (bool(live) or resolving)
    http = make_client(cfg.http) if own_client else client
    resolver = TitleResolver(cfg.http, http, engine, now, sleep) if resolving and http else None
    try:
        for source in cfg.sources:
            if not source.enabled:
                continue
            before = len(progress.failures)
            if source.kind == "files":
                folders = [source.path] if source.path is not None else []
                if not all(folder.is_dir() for folder in folders):  # an error: exit 1 (15.10)
                    progress.fail(
                        source.name,
                        f"folder {source.path} not found: create it or fix [[sources]] path",
                    )
                    progress.sources[source.name] = f"folder {source.path} not found"
                    continue
                _ingest_folder(folders, cfg, engine=engine, now=now, progress=progress,
                               source=source.name, resolver=resolver)  # fmt: skip
            elif http is not None and source in live:
                _ingest_live(cfg, source, engine=engine, client=http, now=now, sleep=sleep,
                             progress=progress)  # fmt: skip
            else:
                continue  # offline: not tried
            progress.source_done(source.name, before)
        if extra_pages:
            _ingest_folder(list(extra_pages), cfg, engine=engine, now=now, progress=progress,
                           resolver=resolver)  # fmt: skip
    finally:
        if resolver is not None and (resolver.asked or resolver.from_cache or resolver.stopped):
            progress.notes.append(resolver.summary())
        if own_client and http is not None:
            http.close()


def _ingest_folder(
    paths: list[Path], cfg: Config, *, engine: Engine, now: datetime, progress: _Progress,
    source: str = DEFAULT_SOURCE, resolver: TitleResolver | None = None,
) -> None:  # fmt: skip
    """Ingest saved pages; reports and failures reach ``progress`` through its callbacks."""
    ingest_files(
        paths,
        engine=engine,
        now=now,
        source=source,
        max_bytes=cfg.ingest.max_page_bytes,
        on_page=progress.page,
        on_failure=lambda failure: progress.fail(failure.origin, failure.message),
        resolve=resolver.resolve_page if resolver is not None else None,
    )


def run_once(
    pb: Paperboy,
    *,
    extra_pages: Sequence[Path] = (),
    client: httpx.Client | None = None,
    sleep: Callable[[float], None] = time.sleep,
    offline: bool = False,
    on_page: Callable[[PageReport], None] | None = None,
    on_failure: Callable[[Failure], None] | None = None,
    email: bool = True,
    on_progress: Progress | None = None,
) -> RunReport:
    """Run the whole daily job once: ingest, topics, feeds, emails (the caller holds the run
    lock); ``email`` False skips the emails (``paperboy run --no-email``)."""
    cfg, engine, now = pb.config, pb.engine, pb.clock()
    progress = _Progress(on_page=on_page, on_failure=on_failure)
    run_id = begin_run(engine, now=now)
    ingest_all(cfg, engine=engine, now=now, progress=progress, extra_pages=extra_pages,
               client=client, sleep=sleep, offline=offline)  # fmt: skip
    note_sources(engine, progress.sources, now=now)
    editions = tuple(sorted({p.listing_date for p in progress.pages if not p.unchanged}))
    topics = assign_topics(pb, progress=progress, on_progress=on_progress)
    feeds: FeedsReport | None = None
    try:
        feeds = render_all_feeds(cfg, engine=engine, topics=pb.topics, now=now)
    except PipelineError as exc:
        progress.fail("feeds", str(exc))
    emails, note = send_emails(pb, progress=progress) if email else ([], "not sent (--no-email)")
    progress.notes.extend(pb.topic_notes())  # subscribers of removed topics (issue 15.11)
    _close_run(pb, run_id, progress)
    return RunReport(
        pages=tuple(progress.pages),
        failures=tuple(progress.failures),
        notes=tuple(progress.notes),
        topics=topics,
        feeds=feeds,
        editions=editions,
        emails=tuple(emails),
        email_note=note,
    )


def assign_topics(
    pb: Paperboy, *, progress: _Progress, on_progress: Progress | None = None
) -> AssignReport | None:
    """Assign topics to what the ingest brought (and reassign topics whose rules changed);
    a failure is recorded and the run goes on (the next run assigns what is still pending)."""
    try:
        report = assign_pending(pb.engine, pb.topics, on_progress=on_progress)
    except PipelineError as exc:
        progress.fail("topics", str(exc))
        return None
    if report.rescanned:  # a topic never assigned in this store, or whose rules changed
        named = report.rescanned
        which = ", ".join(named) if len(named) <= 5 else f"{len(named)} topics"
        progress.notes.append(
            f"topics: {which} assigned over {report.rescan_papers} paper(s) (new or changed rules)"
        )
    if report.removed:
        progress.notes.append(f"topics: {', '.join(report.removed)} no longer configured")
    return report


def timing(cfg: Config) -> Timing:
    """When editions are mailed, from the configuration."""
    return Timing(
        settle=timedelta(hours=cfg.email.settle_hours),
        window_days=cfg.ingest.catch_up_max_days,
    )


def send_emails(pb: Paperboy, *, progress: _Progress) -> tuple[list[EmailReport], str]:
    """Freeze and deliver every edition due (settled, in the catch-up window, not frozen yet),
    and any frozen one with rows still due or left ``sending``; returns the reports and, when
    nothing was due, why. Without an active subscriber nothing is computed or planned."""
    engine = pb.engine
    try:
        due = find_due(engine, now=pb.clock(), timing=timing(pb.config))
    except PipelineError as exc:
        progress.fail("emails", str(exc))
        return [], ""
    if not due.editions:
        return [], due.why_nothing(pb.config.ingest.catch_up_max_days)
    reports = []
    try:
        job = pb.email_job()
        for ref in due.editions:
            report = deliver_edition(
                engine=engine, day=ref, job=job, transport=pb.transport(ref), clock=pb.clock,
                replan=False, batch=pb.config.email.batch,
            )  # fmt: skip
            reports.append(report)
            for problem in report.problems():
                progress.fail(f"emails {ref.label}", problem)
            if report.stopped:  # the server is unwell: leave the other editions for next time
                break
    except PipelineError as exc:
        progress.fail("emails", str(exc))
    return reports, ""


def _close_run(pb: Paperboy, run_id: int, progress: _Progress) -> None:
    """Complete the run's log row, then mail ``[alerts] to`` what needs a person and was not
    mailed today (pipeline.health); an alert that did not go out is a failure of the run."""

    def finish() -> None:
        finish_run(
            pb.engine, run_id, now=pb.clock(), pages=len(progress.pages),
            new_papers=sum(p.new for p in progress.pages), failures=len(progress.failures),
        )  # fmt: skip

    finish()
    if not pb.config.alert_recipients:
        return
    try:
        alerts = pb.alert(pb.status())
    except PipelineError as exc:
        progress.fail("alerts", str(exc))
    else:
        if alerts.ok:
            return
        progress.fail("alerts", alerts.summary())
    finish()
