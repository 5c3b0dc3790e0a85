"""The email stage: plan an edition's outbox rows, then deliver them in one loop.

Orchestration over the store, the pure renderer and a :class:`~pipeline.mail.transports.Transport`.
Planning (freezing the edition's papers and planning its rows in one transaction, and why that
is exactly-once per subscriber and paper) is :mod:`pipeline.mail.plan`.
There is one send loop, :func:`send_due`: it claims due rows ``batch`` at a time (``FOR UPDATE
SKIP LOCKED`` on PostgreSQL, so several ``paperboy emails --worker`` processes share an edition),
commits the claim, sends the batch, then commits the batch's outcomes in one transaction: two
commits per batch, not two per message. A crash between the two commits leaves the batch's rows
``sending`` (later ``uncertain``, reported, never resent blindly): the uncertain window is one
batch, ``[email] batch`` (default 1: one message; larger is opt-in) or ``--batch N``. A batch the
transport stops (421, connection lost) records what was sent and hands the unsent rows back
(``pending``). Bodies are rendered once per distinct topic set, each paper's view once per
edition.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.addresses import unsubscribe_token
from pipeline.clock import Clock
from pipeline.config import Config
from pipeline.failpoints import failpoint
from pipeline.mail.plan import plan_edition
from pipeline.mail.render import (
    Bodies,
    EmailEnvs,
    EmailSettings,
    PaperViews,
    build_message,
    email_settings,
    make_envs,
    render_bodies,
)
from pipeline.mail.transports import Transport
from pipeline.records import Edition, EditionRef, OutboxItem, Outcome
from pipeline.store.assignments import assign_pending
from pipeline.store.engine import read_session, write_session
from pipeline.store.outbox import claim_due, finish_many, outbox_counts
from pipeline.store.subscribers import flag_bouncing
from pipeline.topics import Topic

if TYPE_CHECKING:
    from sqlalchemy import Engine


@dataclass(frozen=True)
class EmailJob:
    """Everything one run needs besides the store, the clock and the transport."""

    topics: Sequence[Topic]
    envs: EmailEnvs
    settings: EmailSettings
    secret: bytes
    send_empty: bool = False
    retry_after: timedelta = timedelta(minutes=30)
    lease: timedelta = timedelta(minutes=15)
    settle: timedelta = timedelta(hours=6)  # [email] settle_hours
    window_days: int = 14  # [ingest] catch_up_max_days: late papers of older days are not mailed


def make_job(cfg: Config, *, topics: Sequence[Topic], secret: bytes, templates: Path) -> EmailJob:
    """The job of a configuration: its topics, templates, settings and HMAC secret."""
    folder = cfg.base_dir / cfg.email.templates_dir if cfg.email.templates_dir else templates
    return EmailJob(
        topics=tuple(topics),
        envs=make_envs(folder),
        settings=email_settings(cfg),
        secret=secret,
        send_empty=cfg.email.send_empty,
        retry_after=timedelta(minutes=cfg.email.retry_minutes),
        lease=timedelta(minutes=cfg.email.lease_minutes),
        settle=timedelta(hours=cfg.email.settle_hours),
        window_days=cfg.ingest.catch_up_max_days,
    )


@dataclass
class EmailReport:
    """What one delivery run did for one edition."""

    edition: date  # the listing date; for a weekly edition the Monday of its ISO week
    kind: str = "daily"
    papers: int = 0
    late: int = 0  # papers added late to earlier editions' days, carried by this one
    froze: bool = False  # this run froze the edition (fixed its papers)
    planned: int = 0  # new outbox rows this run
    attempted: int = 0  # messages handed to the transport
    outcomes: dict[str, int] = field(default_factory=dict)  # this run, by state
    totals: dict[str, int] = field(default_factory=dict)  # the edition's rows, by state
    topic_sets: int = 0
    stopped: str | None = None  # why the batch stopped early
    nobody: bool = False  # not frozen or planned: no active subscriber of its kind

    @property
    def ref(self) -> EditionRef:
        """Which edition this reports on."""
        return EditionRef(self.kind, self.edition)

    @property
    def ok(self) -> bool:
        """False when anything is uncertain or the batch stopped early."""
        return not self.totals.get("uncertain") and self.stopped is None

    def add(self, outcome: Outcome, *, attempted: bool = True) -> None:
        """Count one row's outcome; an outcome that stops the batch stops it."""
        self.attempted += attempted
        self.outcomes[outcome.state] = self.outcomes.get(outcome.state, 0) + 1
        if outcome.stop:
            self.stopped = outcome.detail

    def close(self, *, engine: Engine, topic_sets: int) -> EmailReport:
        """Record the topic sets rendered and the edition's rows by state, after a batch."""
        self.topic_sets = topic_sets
        with read_session(engine) as session:
            self.totals = outbox_counts(session=session, edition=self.edition, kind=self.kind)
        return self

    def summary(self) -> str:
        """One line: what happened to the edition's digests in this run."""
        done = self.outcomes
        states = ("sent", "retry", "failed", "uncertain")
        parts = [f"{state} {done.get(state, 0)}" for state in states]
        sending = self.totals.get("sending", 0)
        in_flight = f"; still sending {sending}" if sending else ""
        name = (
            f"weekly edition {self.ref.label}"
            if self.kind == "weekly"
            else f"edition {self.edition}"
        )
        late = f" (+{self.late} added late)" if self.late else ""
        if self.nobody:
            return f"{name}: no active {self.kind} subscriber: not frozen, nothing planned"
        return (
            f"{name}: {self.papers} paper(s){late}, {self.planned} new outbox row(s), "
            f"{self.topic_sets} topic set(s); this run: {', '.join(parts)}; "
            f"uncertain total {self.totals.get('uncertain', 0)}{in_flight}"
        )

    def in_flight_note(self, lease_minutes: int = 15) -> str | None:
        """Rows other processes left ``sending`` (issue 15.10: shown as "uncertain 0")."""
        sending = self.totals.get("sending", 0)
        if not sending:
            return None
        return (
            f"{sending} message(s) of edition {self.edition} still 'sending': another process "
            "is sending it, or one that died may have; it turns 'uncertain' (and is reported) "
            f"once its {lease_minutes}-minute lease ends"
        )

    def problems(self) -> list[str]:
        """What needs a human: a batch stopped early, messages in the uncertain state."""
        found = []
        if self.stopped:
            found.append(f"stopped early: {self.stopped}; rerun to send the rest")
        if self.totals.get("uncertain"):
            found.append(
                f"{self.totals['uncertain']} message(s) uncertain: the server may have them; "
                "check, then use `paperboy emails --resend-uncertain` if needed"
            )
        return found


def render_for(
    edition: Edition, chosen: Sequence[str], job: EmailJob, *, views: PaperViews | None = None
) -> Bodies:
    """One topic set's bodies (``views``: the edition's paper views, built once and shared by
    its topic sets)."""
    titles: Mapping[str, str] = {t.slug: t.title for t in job.topics}
    return render_bodies(
        edition.for_topics(chosen),
        chosen=chosen,
        titles=titles,
        envs=job.envs,
        settings=job.settings,
        views=views,
    )


def message_bytes(item: OutboxItem, bodies: Bodies, job: EmailJob, now: datetime) -> bytes:
    """The wire form of one subscriber's message."""
    return build_message(
        bodies,
        recipient=item.email,
        token=unsubscribe_token(job.secret, item.token_nonce),
        settings=job.settings,
        now=now,
        msgid=item.message_id,
    )


def prepare_edition(
    *,
    engine: Engine,
    day: date | EditionRef,
    job: EmailJob,
    now: datetime,
    resend_uncertain: bool = False,
    replan: bool = True,
    only_if_subscribed: bool = False,
) -> tuple[Edition, EmailReport]:
    """Freeze the edition (a date: the daily one) unless it is, plan its outbox rows, expire
    stale claims, all in one write transaction (:func:`pipeline.mail.plan.plan_edition`).

    Topics are assigned first (a no-op unless papers are pending): an edition freezes its
    papers' stored topics, which decide who gets what. ``only_if_subscribed`` (delivery):
    an edition not frozen yet whose kind has no active subscriber is left alone.
    """
    assign_pending(engine, job.topics)
    ref = day if isinstance(day, EditionRef) else EditionRef.daily(day)
    plan = plan_edition(
        engine=engine, ref=ref, job=job, now=now, replan=replan,
        resend_uncertain=resend_uncertain, only_if_subscribed=only_if_subscribed,
    )  # fmt: skip
    edition = plan.edition
    report = EmailReport(
        edition=ref.day,
        kind=ref.kind,
        papers=len(edition.new) + len(edition.recurring),
        late=len(edition.late),
        froze=plan.froze,
        planned=plan.planned,
        totals=plan.totals,
        nobody=plan.nobody,
    )
    return edition, report


_RELEASED = Outcome("pending", None, "claim released")
Done = list[tuple[OutboxItem, Outcome, datetime]]


def _record(engine: Engine, done: Done, job: EmailJob) -> None:
    """Record a batch's outcomes in one write transaction (and flag the bounced addresses)."""
    if not done:
        return
    with write_session(engine) as session:
        finish_many(session=session, done=done, retry_after=job.retry_after)
        for item, outcome, at in done:
            if outcome.bounce:
                flag_bouncing(session=session, subscriber_id=item.subscriber_id, now=at)


def send_due(
    *,
    engine: Engine,
    edition: Edition,
    report: EmailReport,
    job: EmailJob,
    transport: Transport,
    clock: Clock,
    batch: int = 1,
    on_item: Callable[[], None] | None = None,
) -> EmailReport:
    """Claim and send the edition's due rows ``batch`` at a time until none is left (or the
    transport says stop). Each batch is two write transactions: its claim, committed before
    any SMTP, and its outcomes, committed after its last message (each stamped ``clock()``).
    A crash in between leaves the batch's rows ``sending``: later ``uncertain``, never resent
    blindly, so the uncertain window is one batch."""
    cache: dict[tuple[str, ...], Bodies] = {}
    views = PaperViews()
    opened = False
    try:
        while report.stopped is None:
            with write_session(engine) as session:
                items = claim_due(
                    session=session,
                    edition=edition.day,
                    now=clock(),
                    limit=batch,
                    kind=edition.kind,
                )
            if not items:
                break
            if not opened:
                try:
                    transport.open()
                except BaseException:
                    _record(engine, [(item, _RELEASED, clock()) for item in items], job)
                    raise
                opened = True
            _send_batch(items, engine, edition, job, transport, clock, (cache, views), report,
                        on_item)  # fmt: skip
    finally:
        if opened:
            transport.close()
    return report.close(engine=engine, topic_sets=len(cache))


def _send_batch(
    items: Sequence[OutboxItem],
    engine: Engine,
    edition: Edition,
    job: EmailJob,
    transport: Transport,
    clock: Clock,
    caches: tuple[dict[tuple[str, ...], Bodies], PaperViews],
    report: EmailReport,
    on_item: Callable[[], None] | None,
) -> None:
    """Send a claimed batch, then record its outcomes in one transaction. Rows never handed
    to the transport (it said stop, or an error interrupted the batch) go back to ``pending``;
    one whose attempt raised stays ``sending`` (it may have gone out)."""
    done: Done = []
    started = 0
    try:
        for item in items:
            if report.stopped is not None:
                break
            started += 1
            if on_item is not None:
                on_item()
            outcome, attempted = _attempt(item, edition, job, transport, clock, caches)
            done.append((item, outcome, clock()))
            report.add(outcome, attempted=attempted)
    finally:
        released = clock()
        _record(engine, done + [(item, _RELEASED, released) for item in items[started:]], job)


def _attempt(
    item: OutboxItem,
    edition: Edition,
    job: EmailJob,
    transport: Transport,
    clock: Clock,
    caches: tuple[dict[tuple[str, ...], Bodies], PaperViews],
) -> tuple[Outcome, bool]:
    """Send one claimed row (True: it went to the transport); skip it if its subscriber left."""
    if item.status != "active":
        return Outcome("skipped", None, f"subscriber {item.status}"), False
    cache, views = caches
    chosen = tuple(sorted(item.topics))
    if chosen not in cache:
        cache[chosen] = render_for(edition, item.topics, job, views=views).for_sending()
    data = message_bytes(item, cache[chosen], job, clock())
    failpoint("after_claim")
    outcome = transport.send(item, job.settings.sender_address, data)
    failpoint("after_send")
    return outcome, True


def deliver_edition(
    *,
    engine: Engine,
    day: date | EditionRef,
    job: EmailJob,
    transport: Transport,
    clock: Clock,
    resend_uncertain: bool = False,
    replan: bool = True,
    batch: int = 1,
    on_start: Callable[[int], None] | None = None,
    on_item: Callable[[], None] | None = None,
) -> EmailReport:
    """Plan the edition's outbox rows, then send the due ones, each at most once."""
    edition, report = prepare_edition(
        engine=engine,
        day=day,
        job=job,
        now=clock(),
        resend_uncertain=resend_uncertain,
        replan=replan,
        only_if_subscribed=True,  # no active subscriber of its kind: nothing computed
    )
    if on_start is not None:
        on_start(report.totals.get("pending", 0) + report.totals.get("retry", 0))
    return send_due(
        engine=engine,
        edition=edition,
        report=report,
        job=job,
        transport=transport,
        clock=clock,
        batch=batch,
        on_item=on_item,
    )
