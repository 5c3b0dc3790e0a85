"""Subscribe requests, their rate limits and confirmation; topic changes by token.

I/O edge: a database ``Session``. A request becomes (or updates) a :class:`Subscriber` only when
its signed link is followed, and each request confirms at most once, so a replayed link cannot
undo a later unsubscribe. Limits are counted from the ``subscribe_request`` rows, so they
survive restarts and hold across workers.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from pipeline.addresses import address_digest, token_hash
from pipeline.records import SubscriberRecord
from pipeline.store.subscribers import add_subscriber, set_frequency, subscriber_record
from pipeline.store.tables import Subscriber, SubscribeRequest

_UNSUBSCRIBE_TOKEN = re.compile(r"^[0-9a-f]{32}$")  # pipeline.store.subscribers.unsubscribe_token


@dataclass(frozen=True)
class RateLimits:
    """How often the subscribe form may cause a confirmation mail."""

    address_gap: timedelta = timedelta(minutes=10)  # at most one mail per address per gap
    address_per_day: int = 3
    ip_per_hour: int = 10  # form submissions recorded per client IP


def _count(session: Session, *conditions: object) -> int:
    query = select(func.count()).select_from(SubscribeRequest).where(*conditions)  # type: ignore[arg-type]
    return int(session.execute(query).scalar_one())


def limit_verdict(
    *, session: Session, email_key: str, client_ip: str, now: datetime, limits: RateLimits
) -> str | None:
    """Why a request must not mail now (``"ip"`` or ``"address"``), or None."""
    if (
        _count(
            session,
            col(SubscribeRequest.client_ip) == client_ip,
            col(SubscribeRequest.created_at) > now - timedelta(hours=1),
        )
        >= limits.ip_per_hour
    ):
        return "ip"
    mailed = (col(SubscribeRequest.email_key) == email_key, col(SubscribeRequest.mailed))
    recent = _count(session, *mailed, col(SubscribeRequest.created_at) > now - limits.address_gap)
    daily = _count(session, *mailed, col(SubscribeRequest.created_at) > now - timedelta(days=1))
    if recent or daily >= limits.address_per_day:
        return "address"
    return None


def record_request(
    *,
    session: Session,
    email: str,
    email_key: str,
    topics: Sequence[str],
    client_ip: str,
    mailed: bool,
    now: datetime,
    frequency: str = "daily",
) -> int:
    """Store one form submission (counted by the limits); return its id."""
    row = SubscribeRequest(
        email=email,
        email_key=email_key,
        topics=list(topics),
        frequency=frequency,
        client_ip=client_ip[:64],
        mailed=mailed,
        created_at=now,
    )
    session.add(row)
    session.flush()
    if row.id is None:
        raise AssertionError("subscribe request without id")
    return row.id


def mark_unmailed(*, session: Session, request_id: int) -> None:
    """Record that a request's mail could not be sent (it then counts for no address limit)."""
    row = session.get(SubscribeRequest, request_id)
    if row is not None:
        row.mailed = False
        session.add(row)


def confirm_request(
    *, session: Session, request_id: int, digest: str, secret: bytes, now: datetime
) -> tuple[str, SubscriberRecord | None]:
    """Apply a confirmation: ``"confirmed"`` (with the subscriber), ``"used"`` or ``"unknown"``.

    ``digest`` is :func:`pipeline.web.tokens.address_digest` of the request's address.
    """
    row = session.get(SubscribeRequest, request_id)
    if row is None or address_digest(row.email_key) != digest or not row.mailed:
        return "unknown", None
    if row.confirmed_at is not None:
        return "used", None
    record, _how = add_subscriber(
        session=session,
        email=row.email,
        topics=row.topics,
        secret=secret,
        now=now,
        frequency=row.frequency,
    )
    row.confirmed_at = now
    session.add(row)
    return "confirmed", record


def _by_token(session: Session, token: str) -> Subscriber | None:
    if not _UNSUBSCRIBE_TOKEN.match(token):
        return None
    query = select(Subscriber).where(col(Subscriber.token_hash) == token_hash(token))
    return session.exec(query).first()


def subscriber_by_token(*, session: Session, token: str) -> SubscriberRecord | None:
    """The subscriber whose unsubscribe token is ``token``, or None."""
    row = _by_token(session, token)
    if row is None or row.id is None:
        return None
    return subscriber_record(row)


def change_topics(
    *,
    session: Session,
    token: str,
    topics: Sequence[str],
    now: datetime,
    frequency: str | None = None,
) -> bool:
    """Set the topics (and ``frequency`` if given) of the token's subscriber (status unchanged);
    False if unknown."""
    row = _by_token(session, token)
    if row is None:
        return False
    row.topics, row.updated_at = list(topics), now
    set_frequency(row, frequency, now=now)
    session.add(row)
    return True
