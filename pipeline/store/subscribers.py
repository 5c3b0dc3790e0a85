"""Subscribers in the store. I/O edge: a database ``Session``.

Validation of addresses and tokens is pure and lives in :mod:`pipeline.addresses`; this module
only reads and writes rows, and returns :class:`~pipeline.records.SubscriberRecord`.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from pipeline.addresses import change_frequency, normalize_email, token_hash, unsubscribe_token
from pipeline.records import FREQUENCIES, SubscriberRecord
from pipeline.store.tables import Subscriber


def subscriber_record(row: Subscriber) -> SubscriberRecord:
    """The record of a subscriber row."""
    if row.id is None:
        raise AssertionError("subscriber row without id")
    return SubscriberRecord(
        row.id,
        row.email,
        tuple(row.topics),
        row.status,
        row.token_nonce,
        row.frequency,
        row.previous_frequency,
        row.frequency_from,
        row.created_at,
    )


def set_frequency(row: Subscriber, frequency: str | None, *, now: datetime) -> None:
    """Ask for ``frequency`` (None: keep): an active subscriber's change takes effect on the
    next Monday (:func:`pipeline.addresses.change_frequency`), anyone else's at once."""
    if frequency is None:
        return
    if row.status != "active":
        row.frequency, row.previous_frequency, row.frequency_from = frequency, None, None
        return
    current = (row.frequency, row.previous_frequency, row.frequency_from)
    changed = change_frequency(current, frequency, today=now.astimezone(UTC).date())
    row.frequency, row.previous_frequency, row.frequency_from = changed


def add_subscriber(
    *,
    session: Session,
    email: str,
    topics: Sequence[str],
    secret: bytes,
    now: datetime,
    frequency: str | None = None,
) -> tuple[SubscriberRecord, str]:
    """Add or update a subscriber (idempotent); return it and added/updated/unchanged.

    ``frequency`` (daily/weekly, already checked) None keeps a subscriber's own, daily for a
    new one; a subscriber's change takes effect on the next Monday (:func:`set_frequency`)."""
    address, key = normalize_email(email)  # the first spelling given is kept for display
    row = session.exec(select(Subscriber).where(col(Subscriber.email_key) == key)).first()
    if row is None:
        nonce = secrets.token_hex(16)
        row = Subscriber(
            email=address,
            email_key=key,
            topics=list(topics),
            frequency=frequency or "daily",
            token_nonce=nonce,
            token_hash=token_hash(unsubscribe_token(secret, nonce)),
            created_at=now,
            updated_at=now,
        )
        session.add(row)
        session.flush()
        return subscriber_record(row), "added"
    before = (list(row.topics), row.status, row.frequency, row.previous_frequency,
              row.frequency_from)  # fmt: skip
    set_frequency(row, frequency, now=now)
    row.topics, row.status = list(topics), "active"
    if (list(row.topics), row.status, row.frequency, row.previous_frequency,
            row.frequency_from) == before:  # fmt: skip
        return subscriber_record(row), "unchanged"
    row.updated_at = now
    session.add(row)
    session.flush()
    return subscriber_record(row), "updated"


def remove_subscriber(*, session: Session, email: str, now: datetime) -> bool:
    """Mark a subscriber unsubscribed; False when the address is unknown."""
    _address, key = normalize_email(email)
    row = session.exec(select(Subscriber).where(col(Subscriber.email_key) == key)).first()
    if row is None:
        return False
    row.status, row.updated_at = "unsubscribed", now
    session.add(row)
    return True


def unsubscribe_by_token(*, session: Session, token: str, now: datetime) -> bool:
    """Unsubscribe the owner of ``token`` (for the web and mailto endpoints)."""
    row = session.exec(
        select(Subscriber).where(col(Subscriber.token_hash) == token_hash(token))
    ).first()
    if row is None:
        return False
    row.status, row.updated_at = "unsubscribed", now
    session.add(row)
    return True


def flag_bouncing(*, session: Session, subscriber_id: int, now: datetime) -> None:
    """Mark a subscriber whose address was refused permanently."""
    row = session.get(Subscriber, subscriber_id)
    if row is not None and row.status == "active":
        row.status, row.updated_at = "bouncing", now
        session.add(row)


def select_subscribers(*, session: Session, status: str | None = None) -> list[SubscriberRecord]:
    """Subscribers (optionally of one status), by address."""
    query = select(Subscriber).order_by(col(Subscriber.email_key))
    if status is not None:
        query = query.where(col(Subscriber.status) == status)
    return [subscriber_record(row) for row in session.exec(query)]


def count_active(*, session: Session) -> dict[str, int]:
    """Active subscribers per frequency (every frequency present, zero when none); one whose
    change of frequency is pending counts for both."""
    counts = dict.fromkeys(FREQUENCIES, 0)
    for column in (col(Subscriber.frequency), col(Subscriber.previous_frequency)):
        query = (
            select(column, func.count())
            .where(col(Subscriber.status) == "active", column.is_not(None))
            .group_by(column)
        )
        for frequency, n in session.execute(query).all():
            counts[frequency] = counts.get(frequency, 0) + int(n)
    return counts
