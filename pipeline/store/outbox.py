"""The outbox: one row per (subscriber, edition) and its delivery state. I/O edge: a ``Session``.

An edition is a ``kind`` (daily or weekly) and a date (the listing date, or the week's Monday);
functions take both, ``kind`` defaulting to daily.

States (docs/reliability.md §2.2)::

    pending --claim--> sending --250--> sent
                          |--4xx / connection lost before DATA--> retry --(due)--> sending
                          |--5xx--> failed                       (never retried)
                          |--lost after DATA / lease expired--> uncertain (reported;
                          |                                      --resend-uncertain -> pending)
    pending/retry --subscriber no longer active--> skipped

The claim is committed before any SMTP traffic, so a crash leaves the row ``sending`` and the
next run turns it ``uncertain`` instead of sending it blindly a second time.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Table, bindparam, func, or_, update
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from pipeline.records import EditionRef, OutboxItem, Outcome
from pipeline.store.engine import insert_for
from pipeline.store.tables import OutboxMessage, Subscriber

STATES = ("pending", "sending", "sent", "retry", "failed", "uncertain", "skipped")
MAX_BACKOFF = timedelta(days=1)
_CHUNK = 500
# Core (not ORM) statements, the delivery ones built once: the ORM's bulk-update path costs ~1 ms
# per statement, and a run issues two transactions per batch (claim, outcomes).
_OUTBOX: Table = OutboxMessage.metadata.tables["outbox"]


def plan_outbox(
    *,
    session: Session,
    edition: date,
    rows: Sequence[tuple[int, str, Sequence[str]]],
    now: datetime,
    kind: str = "daily",
) -> int:
    """Insert a pending row per ``(subscriber_id, message_id, topics)`` unless the subscriber
    has one for the edition; count the new ones."""
    insert = insert_for(session, OutboxMessage)  # the PostgreSQL dialect only on PostgreSQL
    before = _count(session, edition, kind)
    values = [
        {
            "subscriber_id": subscriber_id,
            "kind": kind,
            "edition": edition,
            "topics": list(topics),
            "state": "pending",
            "message_id": msgid,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for subscriber_id, msgid, topics in rows
    ]
    for start in range(0, len(values), _CHUNK):
        session.execute(insert.on_conflict_do_nothing(), values[start : start + _CHUNK])
    return _count(session, edition, kind) - before


def _of(edition: date, kind: str) -> tuple[Any, ...]:
    return (col(OutboxMessage.edition) == edition, col(OutboxMessage.kind) == kind)


def _count(session: Session, edition: date, kind: str) -> int:
    query = select(func.count()).select_from(OutboxMessage).where(*_of(edition, kind))
    return int(session.execute(query).scalar_one())


def expire_leases(
    *, session: Session, edition: date, now: datetime, lease: timedelta, kind: str = "daily"
) -> int:
    """Turn rows left ``sending`` longer than ``lease`` into ``uncertain``; return how many."""
    result = session.execute(
        update(_OUTBOX)
        .where(
            *_of(edition, kind),
            col(OutboxMessage.state) == "sending",
            col(OutboxMessage.claimed_at) < now - lease,
        )
        .values(state="uncertain", last_error="still 'sending' after the lease: process died?")
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def reopen_uncertain(*, session: Session, edition: date, now: datetime, kind: str = "daily") -> int:
    """Make ``uncertain`` rows pending again (same Message-ID); return how many."""
    result = session.execute(
        update(_OUTBOX)
        .where(*_of(edition, kind), col(OutboxMessage.state) == "uncertain")
        .values(state="pending", next_attempt_at=now)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def _items(session: Session, *conditions: Any) -> list[OutboxItem]:
    query = (
        select(OutboxMessage, Subscriber)
        .join(Subscriber, col(Subscriber.id) == col(OutboxMessage.subscriber_id))
        .where(*conditions)
        .order_by(col(OutboxMessage.id))
    )
    return [_item(row, sub, attempts=row.attempts) for row, sub in session.exec(query)]


def _item(row: Any, sub: Any, *, attempts: int) -> OutboxItem:
    """The record of an outbox row (a table row or a RETURNING row) and its subscriber."""
    return OutboxItem(
        id=int(row.id or 0),
        subscriber_id=row.subscriber_id,
        email=sub.email,
        topics=tuple(sub.topics if row.topics is None else row.topics),
        status=sub.status,
        token_nonce=sub.token_nonce,
        message_id=row.message_id,
        attempts=attempts,
        kind=row.kind,
    )


def _due(edition: date, now: datetime, kind: str) -> tuple[Any, ...]:
    return (
        *_of(edition, kind),
        col(OutboxMessage.state).in_(("pending", "retry")),
        col(OutboxMessage.next_attempt_at) <= now,
    )


def due_items(
    *, session: Session, edition: date, now: datetime, kind: str = "daily"
) -> list[OutboxItem]:
    """Rows of ``edition`` that are pending, or retry and due, in id order."""
    return _items(session, *_due(edition, now, kind))


def claim_due(
    *, session: Session, edition: date, now: datetime, limit: int, kind: str = "daily"
) -> list[OutboxItem]:
    """Claim up to ``limit`` due rows (now ``sending``); the caller commits before SMTP.

    PostgreSQL locks the candidates ``FOR UPDATE SKIP LOCKED``, so concurrent workers each get
    other rows and never wait on each other (docs/reliability.md §2.2); on SQLite the caller's
    ``BEGIN IMMEDIATE`` admits one claimer at a time (the locking clause renders as nothing).
    Two statements built once (the claim, ``RETURNING`` the rows; their subscribers).
    """
    claimed = session.execute(
        _CLAIM, {"of_edition": edition, "of_kind": kind, "at_time": now, "at_most": limit}
    ).all()
    if not claimed:
        return []
    wanted = {"ids": sorted({row.subscriber_id for row in claimed})}
    people = {person.id: person for person in session.execute(_SUBSCRIBERS, wanted)}
    # attempts as before this claim, like due_items (finish() backs off on it)
    return [
        _item(row, people[row.subscriber_id], attempts=row.attempts - 1)
        for row in sorted(claimed, key=lambda row: int(row.id))
    ]


_SUBSCRIBER: Table = Subscriber.metadata.tables["subscriber"]
_NOW = bindparam("at_time", type_=_OUTBOX.c.next_attempt_at.type)
_CANDIDATES = (
    core_select(_OUTBOX.c.id)
    .where(
        _OUTBOX.c.edition == bindparam("of_edition", type_=_OUTBOX.c.edition.type),
        _OUTBOX.c.kind == bindparam("of_kind"),
        or_(_OUTBOX.c.state == "pending", _OUTBOX.c.state == "retry"),
        _OUTBOX.c.next_attempt_at <= _NOW,
    )
    .order_by(_OUTBOX.c.id)
    .limit(bindparam("at_most"))
    .with_for_update(skip_locked=True)
)
_CLAIM = (
    update(_OUTBOX)
    .where(_OUTBOX.c.id.in_(_CANDIDATES.scalar_subquery()))
    .values(state="sending", claimed_at=_NOW, attempts=_OUTBOX.c.attempts + 1)
    .returning(
        _OUTBOX.c.id, _OUTBOX.c.subscriber_id, _OUTBOX.c.topics, _OUTBOX.c.message_id,
        _OUTBOX.c.attempts, _OUTBOX.c.kind,
    )
)  # fmt: skip
_SUBSCRIBERS = core_select(
    _SUBSCRIBER.c.id, _SUBSCRIBER.c.email, _SUBSCRIBER.c.topics, _SUBSCRIBER.c.status,
    _SUBSCRIBER.c.token_nonce,
).where(_SUBSCRIBER.c.id.in_(bindparam("ids", expanding=True)))  # fmt: skip


def finish(
    *, session: Session, item: OutboxItem, outcome: Outcome, now: datetime, retry_after: timedelta
) -> None:
    """Record one attempt's outcome (see :func:`finish_many`)."""
    finish_many(session=session, done=[(item, outcome, now)], retry_after=retry_after)


def finish_many(
    *,
    session: Session,
    done: Sequence[tuple[OutboxItem, Outcome, datetime]],
    retry_after: timedelta,
) -> None:
    """Record a batch of attempts' outcomes, each stamped with its time, in one statement
    (executemany): a retry waits ``retry_after`` doubled per attempt; ``sent_at`` is set for
    a sent row, ``next_attempt_at`` for a retry, both left as they are otherwise."""
    if not done:
        return
    params = []
    for item, outcome, now in done:
        delay = min(retry_after * 2 ** max(0, item.attempts), MAX_BACKOFF)
        params.append(
            {
                "row_id": item.id,
                "new_state": outcome.state,
                "new_code": outcome.code,
                "new_error": outcome.detail[:500] or None,
                "new_sent_at": now if outcome.state == "sent" else None,
                "new_next": now + delay if outcome.state == "retry" else None,
            }
        )
    session.execute(_FINISH, params)


# Built once: one UPDATE per row by primary key, executed as one executemany per batch.
_FINISH = (
    update(_OUTBOX)
    .where(_OUTBOX.c.id == bindparam("row_id"))
    .values(
        state=bindparam("new_state"),
        last_code=bindparam("new_code"),
        last_error=bindparam("new_error"),
        sent_at=func.coalesce(
            bindparam("new_sent_at", type_=_OUTBOX.c.sent_at.type), _OUTBOX.c.sent_at
        ),
        next_attempt_at=func.coalesce(
            bindparam("new_next", type_=_OUTBOX.c.next_attempt_at.type),
            _OUTBOX.c.next_attempt_at,
        ),
    )
)


def outbox_counts(*, session: Session, edition: date, kind: str = "daily") -> dict[str, int]:
    """Rows of ``edition`` per state (every state present, zero when none)."""
    query = (
        select(col(OutboxMessage.state), func.count())
        .where(*_of(edition, kind))
        .group_by(col(OutboxMessage.state))
    )
    counts = dict.fromkeys(STATES, 0)
    counts.update({state: int(n) for state, n in session.execute(query).all()})
    return counts


def due_editions(*, session: Session) -> list[EditionRef]:
    """Editions that still have rows waiting to be sent (pending, or retry after a 4xx)."""
    return _editions_in(session, ("pending", "retry"))


def editions_in_flight(*, session: Session) -> list[EditionRef]:
    """Editions with rows left ``sending`` (a run died mid-send): their lease must be checked."""
    return _editions_in(session, ("sending",))


def editions_uncertain(*, session: Session) -> list[EditionRef]:
    """Editions with ``uncertain`` rows (what ``--resend-uncertain`` may send again)."""
    return _editions_in(session, ("uncertain",))


def _editions_in(session: Session, states: Sequence[str]) -> list[EditionRef]:
    query = (
        select(col(OutboxMessage.kind), col(OutboxMessage.edition))
        .where(col(OutboxMessage.state).in_(states))
        .distinct()
    )
    found = {EditionRef(kind, day) for kind, day in session.exec(query)}
    return sorted(found, key=lambda ref: ref.sort_key)
