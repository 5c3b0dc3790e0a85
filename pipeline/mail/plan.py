"""Plan an edition: freeze its listings and plan its outbox rows in one write transaction.

Orchestration over the store (I/O edge: a database engine) and the pure content rules
(:mod:`pipeline.mail.contents`).

**Exactly once per (subscriber, listing), and why it survives kill -9.** A *listing* is a
paper on one listing date; what a subscriber must get exactly once is each listing of their
topics, in its day's edition or, if it reached that day after the edition went out, under
"Added late" in their next one (weekly subscribers: per week). The bookkeeping is two facts
held by unique constraints, written in one transaction ``T(E)`` per edition ``E``:

1. ``mail_edition_paper`` (kind, listing date, paper) is unique: each listing is *frozen* into
   at most one edition of a kind. ``T(E)`` freezes ``E``'s own listings and every *late* one:
   a listing of a date that a frozen edition of the kind covers, frozen in none.
2. ``outbox`` (subscriber, kind, edition) is unique, and the row stores the subscriber's topics
   as planned. A message lists exactly ``frozen(E)`` cut to those topics; both are fixed once
   ``T(E)`` commits, so a retry, a resend of an uncertain message or a second worker renders
   the same papers under the same Message-ID.

*At most once*: a listing lies in one ``frozen(E)`` (1) and a subscriber has one message per
``E`` (2). Inside a message a paper appears once (:mod:`pipeline.mail.contents`).
*At least once*: a listing present when its day's edition is frozen is in it; one that arrives
later is late by definition and goes into the next edition of the kind frozen after it
arrived, and every subscriber of that kind, active then, whose topics it matches gets that
edition, because the edition is not empty for them. Late listings are looked for within the
catch-up window only (``[ingest] catch_up_max_days``, the days ``paperboy run`` fetches): a page
of an older day ingested by hand is an archive, not news, and mailing it would be the flood
issue 15 forbids (a day older than the window is mailed only on request). From there on the
outbox delivers, or reports (failed, uncertain), as before (docs/reliability.md §2.2).
*Crash safety*: ``T(E)`` is atomic (before its commit nothing happened, after it everything
did). Which editions are due is recomputed from the store on every run (settled, in the window,
not frozen), so a rerun after kill -9 at any point either redoes ``T(E)`` or finds it done and
only sends the rows still due. Nothing is kept in memory between steps.
*Concurrency*: the edition row is inserted ON CONFLICT DO NOTHING, so of two processes freezing
``E`` one does and the other plans against the frozen rows; a late listing two editions reach
for goes to the first to commit (1).
*Daily and weekly* are two kinds with their own frozen listings; a subscriber is of one kind
per ISO week (a change of frequency starts on a Monday, ``SubscriberRecord.frequency_on``), so
each of their days is covered by one kind. One gap remains: a paper added to a day of the week
a subscriber switches in, after that day's edition of the old kind was frozen, goes into the
old kind's next edition, which that subscriber no longer gets.

An edition is neither frozen nor planned while its kind has no active subscriber (a run does
not even look: :mod:`pipeline.mail.due`; a request, ``paperboy emails --edition D``, finds no
one and leaves it as it is): nothing would be mailed, and freezing it would only turn its day's
later listings into "Added late" for nobody.

A run plans an edition once, when it freezes it, for the subscribers of its kind who had
subscribed when it settled: a subscriber's first digest is the first edition that settles after
they subscribed, so a new subscriber (or a first run over weeks of pages) gets no backlog.
On request (``paperboy emails --edition D``) an edition is planned again, for every active
subscriber of its kind.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from pipeline.errors import ConfigError
from pipeline.failpoints import failpoint
from pipeline.mail.contents import build_edition
from pipeline.mail.render import message_id
from pipeline.mail.settle import settles_at, window_start
from pipeline.records import Edition, EditionRef, SubscriberRecord
from pipeline.store.engine import write_session
from pipeline.store.frozen_editions import freeze_edition, frozen_papers, frozen_refs
from pipeline.store.outbox import expire_leases, outbox_counts, plan_outbox, reopen_uncertain
from pipeline.store.subscribers import count_active, select_subscribers

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from pipeline.mail.send import EmailJob


@dataclass(frozen=True)
class Plan:
    """What planning one edition did."""

    edition: Edition  # the frozen listings, as messages list them
    froze: bool  # this call froze the edition
    planned: int  # new outbox rows
    totals: dict[str, int]  # the edition's rows by state, after planning
    nobody: bool = False  # not frozen: no active subscriber of its kind (nothing computed)


def recipients(
    edition: Edition,
    subscribers: Sequence[SubscriberRecord],
    job: EmailJob,
    *,
    joined_by: datetime | None = None,
) -> list[tuple[int, str, tuple[str, ...]]]:
    """``(subscriber id, Message-ID, topics)`` for every subscriber of the edition's kind (on
    its first day: a change of frequency starts on a Monday), subscribed by ``joined_by`` when
    given, whose topics it has papers for (everyone with ``send_empty``)."""
    rows = []
    empty: dict[tuple[str, ...], bool] = {}
    for sub in subscribers:
        if sub.frequency_on(edition.day) != edition.kind:
            continue
        if joined_by is not None and sub.created_at is not None and sub.created_at > joined_by:
            continue  # subscribed after the edition settled: their first is a later one
        chosen = tuple(sub.topics)
        if chosen not in empty:
            empty[chosen] = edition.for_topics(chosen).empty
        if empty[chosen] and not job.send_empty:
            continue
        msgid = message_id(
            job.secret,
            subscriber_id=sub.id,
            edition=edition.day,
            domain=job.settings.domain,
            kind=edition.kind,
        )
        rows.append((sub.id, msgid, chosen))
    return rows


def plan_edition(
    *,
    engine: Engine,
    ref: EditionRef,
    job: EmailJob,
    now: datetime,
    replan: bool = True,
    resend_uncertain: bool = False,
    only_if_subscribed: bool = False,
) -> Plan:
    """Freeze ``ref`` (if not yet), plan its rows, expire stale claims: one transaction.

    ``replan`` False (a run): rows are planned only by the call that freezes the edition.
    ``only_if_subscribed`` (delivery): an edition not frozen yet is left alone, nothing
    computed, while its kind has no active subscriber.
    """
    with write_session(engine) as session:
        if (
            only_if_subscribed
            and not count_active(session=session).get(ref.kind)
            and ref not in frozen_refs(session=session, since=ref.day)
        ):
            # Nobody would get it: freezing now would only push the day's later listings into
            # the next edition as "Added late" for nobody. Left unfrozen, it is frozen by the
            # first run or request that has someone to mail it to (pipeline.mail.due).
            totals = outbox_counts(session=session, edition=ref.day, kind=ref.kind)
            return Plan(Edition(day=ref.day, new=(), recurring=(), kind=ref.kind), False, 0,
                        totals, nobody=True)  # fmt: skip
        froze = freeze_edition(
            session=session, ref=ref, topics=job.topics, now=now,
            late_since=window_start(now, job.window_days),
        )  # fmt: skip
        rows = frozen_papers(session=session, ref=ref)
        if rows is None:
            what = f"the week {ref.label}" if ref.kind == "weekly" else f"{ref.label}"
            raise ConfigError(
                f"no papers are listed on {what}: no edition to send "
                "(see `paperboy papers` and `paperboy emails --dry-run`)"
            )
        edition = build_edition(ref, rows)
        planned = 0
        if froze or replan:
            subscribers = select_subscribers(session=session, status="active")
            joined_by = None if replan else settles_at(ref, job.settle)
            wanted = recipients(edition, subscribers, job, joined_by=joined_by)
            planned = plan_outbox(
                session=session, edition=ref.day, rows=wanted, now=now, kind=ref.kind
            )
            failpoint("before_plan_commit")
        expire_leases(session=session, edition=ref.day, now=now, lease=job.lease, kind=ref.kind)
        if resend_uncertain:
            reopen_uncertain(session=session, edition=ref.day, now=now, kind=ref.kind)
        totals = outbox_counts(session=session, edition=ref.day, kind=ref.kind)
    return Plan(edition=edition, froze=froze, planned=planned, totals=totals)
