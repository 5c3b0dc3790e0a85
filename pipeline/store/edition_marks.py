"""Editions waiting for their email rows to be planned. I/O edge: the database (meta table).

``paperboy run`` emails the editions that got new content. Knowing them only in memory loses
them when the run dies (kill -9, a failpoint) or stops early (SMTP 421, a dropped connection)
after the pages were committed but before the outbox rows were planned: the rerun finds the
pages already stored, sees no new content and would never email those editions (found by
``scripts/fault_harness.py``). So a run marks an edition in the same transaction that stores
its page, and clears the mark only once the edition's outbox rows are committed; the next run
picks up every edition still marked. One ``meta`` row per edition: no read-modify-write.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import delete, select
from sqlmodel import Session, col

from pipeline.records import PageReport
from pipeline.store.papers import ensure_meta
from pipeline.store.tables import Meta, OutboxMessage

PREFIX = "email_pending:"


def mark_edition(session: Session, report: PageReport) -> None:
    """Mark the page's edition for emailing (call inside the page's write transaction)."""
    if not report.unchanged:
        ensure_meta(session=session, key=f"{PREFIX}{report.listing_date.isoformat()}", value="1")


def pending_editions(*, session: Session) -> set[date]:
    """Editions marked and not yet planned."""
    keys = session.execute(select(col(Meta.key)).where(col(Meta.key).startswith(PREFIX)))
    return {date.fromisoformat(key.removeprefix(PREFIX)) for key in keys.scalars()}


def clear_edition(*, session: Session, day: date) -> None:
    """Forget the mark once the edition's outbox rows are committed."""
    session.execute(delete(Meta).where(col(Meta.key) == f"{PREFIX}{day.isoformat()}"))


def editions_in_flight(*, session: Session) -> set[date]:
    """Editions with rows left ``sending`` (a run died mid-send): their lease must be checked."""
    found = session.execute(
        select(col(OutboxMessage.edition)).where(col(OutboxMessage.state) == "sending").distinct()
    )
    return set(found.scalars())
