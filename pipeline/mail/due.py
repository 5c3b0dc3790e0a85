"""Which editions a run mails now, recomputed from the store every time. I/O edge: reads the
database (one read transaction); the rules are :mod:`pipeline.mail.settle`.

Nothing is remembered between runs: an edition is due when it has settled, lies within the
catch-up window and is not frozen yet (only for a kind, daily or weekly, that has active
subscribers), or when it is frozen and still has rows to send or rows left ``sending`` by a
process that died. So a run killed at any point leaves a store from which the next run finds
the same work (:mod:`pipeline.mail.plan`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from pipeline.mail.settle import Timing, describe_wait, due_to_freeze, not_settled, window_start
from pipeline.records import EditionRef
from pipeline.store.engine import read_session
from pipeline.store.frozen_editions import frozen_refs, listing_days
from pipeline.store.outbox import due_editions, editions_in_flight, editions_uncertain
from pipeline.store.subscribers import count_active

if TYPE_CHECKING:
    from sqlalchemy import Engine


@dataclass(frozen=True)
class DueWork:
    """What is due now and what waits."""

    active: dict[str, int]  # active subscribers per frequency
    to_freeze: tuple[EditionRef, ...] = ()  # settled, in the window, not frozen
    to_send: tuple[EditionRef, ...] = ()  # frozen, with rows due or left 'sending'
    waiting: tuple[tuple[EditionRef, datetime], ...] = field(default=())  # not settled yet
    uncertain: tuple[EditionRef, ...] = ()  # frozen, with rows 'uncertain' (reported)
    recent_days: int = 0  # listing dates with papers within the catch-up window

    @property
    def editions(self) -> list[EditionRef]:
        """Every edition to handle now, oldest first."""
        return sorted({*self.to_freeze, *self.to_send}, key=lambda ref: ref.sort_key)

    def why_nothing(self, window_days: int) -> str:
        """Why a run mails nothing (when :attr:`editions` is empty)."""
        if not any(self.active.values()):
            return "no active subscriber: no edition planned"
        if self.waiting:
            ref, at = self.waiting[0]
            return f"nothing due: {describe_wait(ref, at)}"
        if not self.recent_days:
            return (
                f"nothing due: no papers listed in the last {window_days} day(s) "
                "(catch_up_max_days); older editions are mailed only on request: "
                "`paperboy emails --edition YYYY-MM-DD`"
            )
        return (
            f"nothing due: every edition of the last {window_days} day(s) "
            "(catch_up_max_days) is sent; older ones only with `paperboy emails --edition D`"
        )


def find_due(engine: Engine, *, now: datetime, timing: Timing) -> DueWork:
    """The editions to freeze and to send now (none without an active subscriber)."""
    with read_session(engine) as session:
        active = count_active(session=session)
        if not any(active.values()):
            return DueWork(active=active)
        kinds = [kind for kind, n in active.items() if n]
        start = window_start(now, timing.window_days)
        # a week ending in the window may start up to six days before it
        days = listing_days(session=session, start=start - timedelta(days=6), end=now.date())
        frozen = frozen_refs(session=session, since=start - timedelta(days=6))
        to_send = {*due_editions(session=session), *editions_in_flight(session=session)}
        uncertain = editions_uncertain(session=session)
    to_freeze = due_to_freeze(days, frozen, kinds=kinds, now=now, timing=timing)
    waiting = not_settled(
        [day for day in days if day >= start], kinds=kinds, now=now, timing=timing
    )
    return DueWork(
        active=active,
        to_freeze=tuple(to_freeze),
        to_send=tuple(sorted(to_send, key=lambda ref: ref.sort_key)),
        waiting=tuple(waiting),
        uncertain=tuple(uncertain),
        recent_days=sum(1 for day in days if day >= start),
    )
