"""The cache of title look-ups (Hugging Face papers search). I/O edge: a database ``Session``.

A title asked once is not asked again: a hit is kept for good (a paper's arXiv id does not
change), a miss until its ``retry_after`` (:mod:`pipeline.ingest.resolve` decides when).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from pipeline.store.engine import insert_for
from pipeline.store.tables import TitleLookup

CHUNK = 500  # keys per IN (...) look-up


@dataclass(frozen=True, slots=True)
class Lookup:
    """What the search answered for one title key."""

    title_key: str
    arxiv_id: str | None  # None: no exact match
    looked_up_at: datetime
    retry_after: datetime | None  # a miss may be asked again after this

    def due(self, now: datetime) -> bool:
        """True when the title should be asked again (a miss whose wait is over)."""
        return self.arxiv_id is None and (self.retry_after is None or self.retry_after <= now)


def cached_lookups(*, session: Session, keys: Iterable[str]) -> dict[str, Lookup]:
    """The cached answers for ``keys`` (title keys), by key."""
    wanted = sorted(set(keys))
    found: dict[str, Lookup] = {}
    for start in range(0, len(wanted), CHUNK):
        rows = session.exec(
            select(TitleLookup).where(col(TitleLookup.title_key).in_(wanted[start : start + CHUNK]))
        )
        for row in rows:
            found[row.title_key] = Lookup(
                row.title_key, row.arxiv_id, row.looked_up_at, row.retry_after
            )
    return found


def save_lookup(*, session: Session, lookup: Lookup) -> None:
    """Record an answer; it replaces a miss (asked again, it may be a hit now), never a hit."""
    values = {
        "arxiv_id": lookup.arxiv_id,
        "looked_up_at": lookup.looked_up_at,
        "retry_after": lookup.retry_after,
    }
    stmt = insert_for(session, TitleLookup).values(title_key=lookup.title_key, **values)
    keep_hits = col(TitleLookup.arxiv_id).is_(None) | stmt.excluded.arxiv_id.is_not(None)
    session.execute(
        stmt.on_conflict_do_update(index_elements=["title_key"], set_=values, where=keep_hits)
    )
