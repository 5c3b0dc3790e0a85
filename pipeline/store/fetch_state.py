"""Per-URL fetch state: conditional-GET validators and rate-limit deferrals. I/O edge: a Session.

Validators are saved in the same transaction as the page they belong to, so a page that failed
to parse or store is never answered "304 unchanged" next time.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Session, col, select

from pipeline.records import Validators
from pipeline.store.tables import Digest, FetchState


def load_fetch_state(*, session: Session, url: str) -> tuple[Validators, datetime | None]:
    """The stored validators of ``url`` and the time before which it must not be fetched."""
    row = session.get(FetchState, url)
    if row is None:
        return Validators(), None
    return Validators(row.etag, row.last_modified), row.deferred_until


def save_validators(
    *, session: Session, url: str, validators: Validators | None, fetched_at: datetime
) -> None:
    """Record a successful fetch of ``url`` (validators None: forget them) and clear deferral."""
    row = session.get(FetchState, url) or FetchState(url=url)
    row.etag = validators.etag if validators else None
    row.last_modified = validators.last_modified if validators else None
    row.fetched_at = fetched_at
    row.deferred_until = None
    session.add(row)


def save_deferral(*, session: Session, url: str, until: datetime) -> None:
    """Record that the server asked us not to fetch ``url`` before ``until``."""
    row = session.get(FetchState, url) or FetchState(url=url)
    row.deferred_until = until
    session.add(row)


def stored_paper_count(*, session: Session, source: str, listing_date: date) -> int:
    """How many papers the stored digest of (source, date) lists; 0 if none."""
    where = (col(Digest.source) == source) & (col(Digest.listing_date) == listing_date)
    count = session.exec(select(col(Digest.paper_count)).where(where)).first()
    return count or 0
