"""Subscribers in the store. I/O edge: a database ``Session``.

Validation of addresses and tokens is pure and lives in :mod:`pipeline.addresses`; this module
only reads and writes rows, and returns :class:`~pipeline.records.SubscriberRecord`.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from pipeline.addresses import normalize_email, token_hash, unsubscribe_token
from pipeline.records import FREQUENCIES, SubscriberRecord
from pipeline.store.tables import Subscriber


def subscriber_record(row: Subscriber) -> SubscriberRecord:
    """The record of a subscriber row."""
    if row.id is None:
        raise AssertionError("subscriber row without id")
    return SubscriberRecord(
        row.id, row.email, tuple(row.topics), row.status, row.token_nonce, row.frequency
    )


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
    new one."""
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
    wanted = frequency or row.frequency
    if list(row.topics) == list(topics) and row.status == "active" and row.frequency == wanted:
        return subscriber_record(row), "unchanged"
    row.topics, row.status, row.updated_at = list(topics), "active", now
    row.frequency = wanted
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
    """Active subscribers per frequency (every frequency present, zero when none)."""
    query = (
        select(col(Subscriber.frequency), func.count())
        .where(col(Subscriber.status) == "active")
        .group_by(col(Subscriber.frequency))
    )
    counts = dict.fromkeys(FREQUENCIES, 0)
    counts.update({frequency: int(n) for frequency, n in session.execute(query).all()})
    return counts
