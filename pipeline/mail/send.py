"""The email stage: plan the outbox for an edition, render per topic set, deliver, report.

Orchestration over the store (``Engine``), the pure renderer and a :class:`Transport` (SMTP or
.eml files). Each row's claim is committed before the transport is used and its outcome right
after, so a crash at any point leaves at most that one row ``sending`` (later ``uncertain``).
"""

from __future__ import annotations

import secrets
import smtplib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Protocol

from sqlalchemy import Engine
from sqlmodel import select

from pipeline.failpoints import failpoint
from pipeline.mail.render import (
    Bodies,
    EmailEnvs,
    EmailSettings,
    build_message,
    message_id,
    render_bodies,
)
from pipeline.mail.smtp import SmtpTarget, close_smtp, open_smtp, send_one, write_eml
from pipeline.store.editions import Edition, select_edition
from pipeline.store.engine import read_session, write_session
from pipeline.store.outbox import (
    OutboxItem,
    Outcome,
    claim,
    due_items,
    expire_leases,
    finish,
    outbox_counts,
    plan_outbox,
    reopen_uncertain,
    skip,
)
from pipeline.store.subscribers import (
    SubscriberRecord,
    flag_bouncing,
    select_subscribers,
    unsubscribe_token,
)
from pipeline.store.tables import Meta
from pipeline.topics import Topic

SECRET_KEY = "email_secret"


class Transport(Protocol):
    """Delivers one message's bytes; opened once per run."""

    def open(self) -> None: ...
    def send(self, item: OutboxItem, sender: str, data: bytes) -> Outcome: ...
    def close(self) -> None: ...


@dataclass
class SmtpTransport:
    """Delivery over one SMTP connection per run."""

    target: SmtpTarget
    timeout: float = 60.0
    _conn: smtplib.SMTP | None = None

    def open(self) -> None:
        """Connect (raises DeliveryError)."""
        self._conn = open_smtp(self.target, timeout=self.timeout)

    def send(self, item: OutboxItem, sender: str, data: bytes) -> Outcome:
        """Send over the open connection."""
        if self._conn is None:
            raise RuntimeError("transport not open")
        return send_one(self._conn, sender=sender, recipient=item.email, data=data)

    def close(self) -> None:
        """Quit."""
        if self._conn is not None:
            close_smtp(self._conn)
        self._conn = None


@dataclass
class EmlTransport:
    """Writes ``<folder>/<message-id>.eml`` (atomically, never twice) instead of sending."""

    folder: Path

    def open(self) -> None:
        """Nothing to open."""

    def send(self, item: OutboxItem, sender: str, data: bytes) -> Outcome:  # noqa: ARG002
        """Write the file; an existing file means it was delivered before."""
        name = item.message_id.strip("<>").partition("@")[0] + ".eml"
        written = write_eml(self.folder, name, data)
        return Outcome("sent", None, "written" if written else "already written")

    def close(self) -> None:
        """Nothing to close."""


@dataclass
class EmailReport:
    """What ``paperboy emails`` did for one edition."""

    edition: date
    papers: int = 0
    planned: int = 0  # new outbox rows this run
    attempted: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)  # this run, by state
    totals: dict[str, int] = field(default_factory=dict)  # the edition's rows, by state
    topic_sets: int = 0
    stopped: str | None = None  # why the batch stopped early

    @property
    def ok(self) -> bool:
        """False when anything is uncertain or the batch stopped early."""
        return not self.totals.get("uncertain") and self.stopped is None

    def add(self, outcome: Outcome) -> None:
        """Count one delivery attempt; an outcome that stops the batch stops it."""
        self.attempted += 1
        self.outcomes[outcome.state] = self.outcomes.get(outcome.state, 0) + 1
        if outcome.stop:
            self.stopped = outcome.detail

    def close(self, *, engine: Engine, topic_sets: int) -> EmailReport:
        """Record the topic sets rendered and the edition's rows by state, after a batch."""
        self.topic_sets = topic_sets
        with read_session(engine) as session:
            self.totals = outbox_counts(session=session, edition=self.edition)
        return self


def email_secret(engine: Engine, *, env_value: str | None) -> bytes:
    """The HMAC secret: ``PAPERBOY_SECRET`` if set, else one stored in the DB at first use."""
    if env_value:
        return env_value.encode()
    with write_session(engine) as session:
        row = session.exec(select(Meta).where(Meta.key == SECRET_KEY)).first()
        if row is None:
            row = Meta(key=SECRET_KEY, value=secrets.token_hex(32))
            session.add(row)
        return row.value.encode()


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


def _plan(
    edition: Edition, subscribers: Sequence[SubscriberRecord], job: EmailJob
) -> list[tuple[int, str]]:
    rows = []
    for sub in subscribers:
        if edition.for_topics(sub.topics).empty and not job.send_empty:
            continue
        msgid = message_id(
            job.secret, subscriber_id=sub.id, edition=edition.day, domain=job.settings.domain
        )
        rows.append((sub.id, msgid))
    return rows


def render_for(edition: Edition, chosen: Sequence[str], job: EmailJob) -> Bodies:
    """One topic set's bodies."""
    titles: Mapping[str, str] = {t.slug: t.title for t in job.topics}
    return render_bodies(
        edition.for_topics(chosen),
        chosen=chosen,
        titles=titles,
        envs=job.envs,
        settings=job.settings,
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
    *, engine: Engine, day: date, job: EmailJob, now: datetime, resend_uncertain: bool = False
) -> tuple[Edition, EmailReport]:
    """Read the edition, plan outbox rows, expire stale claims (one write transaction)."""
    with read_session(engine) as session:
        edition = select_edition(session=session, day=day, topics=job.topics)
        subscribers = select_subscribers(session=session, status="active")
    report = EmailReport(edition=day, papers=len(edition.new) + len(edition.recurring))
    rows = _plan(edition, subscribers, job)
    with write_session(engine) as session:
        report.planned = plan_outbox(session=session, edition=day, rows=rows, now=now)
        expire_leases(session=session, edition=day, now=now, lease=job.lease)
        if resend_uncertain:
            reopen_uncertain(session=session, edition=day, now=now)
        report.totals = outbox_counts(session=session, edition=day)
    return edition, report


def _deliver_item(
    item: OutboxItem,
    *,
    engine: Engine,
    transport: Transport,
    data: bytes,
    job: EmailJob,
    clock: Callable[[], datetime],
) -> Outcome | None:
    with write_session(engine) as session:
        if not claim(session=session, item_id=item.id, now=clock()):
            return None  # another worker has it
    return send_claimed(item, engine=engine, transport=transport, data=data, job=job, clock=clock)


def send_claimed(
    item: OutboxItem,
    *,
    engine: Engine,
    transport: Transport,
    data: bytes,
    job: EmailJob,
    clock: Callable[[], datetime],
) -> Outcome:
    """Send a row already claimed (and committed) as ``sending``; record the outcome."""
    failpoint("after_claim")
    outcome = transport.send(item, job.settings.sender_address, data)
    failpoint("after_send")
    done = clock()
    with write_session(engine) as session:
        finish(session=session, item=item, outcome=outcome, now=done, retry_after=job.retry_after)
        if outcome.bounce:
            flag_bouncing(session=session, subscriber_id=item.subscriber_id, now=done)
    return outcome


def send_edition(
    *,
    engine: Engine,
    edition: Edition,
    report: EmailReport,
    job: EmailJob,
    transport: Transport,
    now: datetime,
    on_item: Callable[[], None] | None = None,
    clock: Callable[[], datetime] | None = None,
) -> EmailReport:
    """Deliver the edition's due rows; bodies rendered once per topic set.

    ``now`` dates the messages and selects due rows; ``clock`` (default: always ``now``) times
    each claim and outcome, so a long run's claims are not mistaken for stale leases.
    """
    with read_session(engine) as session:
        items = due_items(session=session, edition=edition.day, now=now)
    cache: dict[tuple[str, ...], Bodies] = {}
    opened = False
    try:
        for item in items:
            if on_item is not None:
                on_item()
            if item.status != "active":
                with write_session(engine) as session:
                    skip(session=session, item=item, reason=f"subscriber {item.status}")
                continue
            chosen = tuple(sorted(item.topics))
            if chosen not in cache:
                cache[chosen] = render_for(edition, item.topics, job)
            data = message_bytes(item, cache[chosen], job, now)
            if not opened:
                transport.open()
                opened = True
            outcome = _deliver_item(
                item,
                engine=engine,
                transport=transport,
                data=data,
                job=job,
                clock=clock or (lambda: now),
            )
            if outcome is None:
                continue
            report.add(outcome)
            if report.stopped is not None:
                break
    finally:
        if opened:
            transport.close()
    return report.close(engine=engine, topic_sets=len(cache))
