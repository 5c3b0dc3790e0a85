"""``paperboy emails --worker``: several processes deliver one edition together.

I/O edge: the store and a :class:`~pipeline.mail.send.Transport`. Each worker claims due outbox rows
in small batches (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so workers never take the same row
and never wait on each other; ``BEGIN IMMEDIATE`` on SQLite), commits the claim, sends, records
the outcome, and stops when no due row is left. A killed worker leaves at most one batch of rows
``sending``; after the lease they become ``uncertain`` and are reported, never resent blindly.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Engine

from pipeline.mail.render import Bodies
from pipeline.mail.send import (
    EmailJob,
    EmailReport,
    Transport,
    message_bytes,
    render_for,
    send_claimed,
)
from pipeline.store.editions import Edition
from pipeline.store.engine import write_session
from pipeline.store.outbox import OutboxItem, Outcome, claim_due, finish


def work_edition(
    *,
    engine: Engine,
    edition: Edition,
    report: EmailReport,
    job: EmailJob,
    transport: Transport,
    now: datetime,
    batch: int = 1,
    clock: Callable[[], datetime] | None = None,
) -> EmailReport:
    """Claim and send due rows ``batch`` at a time until none is left (or delivery stops)."""
    tick = clock or (lambda: now)
    cache: dict[tuple[str, ...], Bodies] = {}
    opened = False
    try:
        while report.stopped is None:
            with write_session(engine) as session:
                items = claim_due(session=session, edition=edition.day, now=tick(), limit=batch)
            if not items:
                break
            if not opened:
                transport.open()
                opened = True
            for item in items:
                if report.stopped is not None:  # never sent: hand the row back
                    _record(engine, item, Outcome("pending", None, "claim released"), job, tick)
                    continue
                report.add(_deliver(item, engine, edition, job, transport, now, tick, cache))
    finally:
        if opened:
            transport.close()
    return report.close(engine=engine, topic_sets=len(cache))


def _deliver(
    item: OutboxItem,
    engine: Engine,
    edition: Edition,
    job: EmailJob,
    transport: Transport,
    now: datetime,
    tick: Callable[[], datetime],
    cache: dict[tuple[str, ...], Bodies],
) -> Outcome:
    """Send one claimed row, or close it as skipped when its subscriber left."""
    if item.status != "active":
        outcome = Outcome("skipped", None, f"subscriber {item.status}")
        _record(engine, item, outcome, job, tick)
        return outcome
    chosen = tuple(sorted(item.topics))
    if chosen not in cache:
        cache[chosen] = render_for(edition, item.topics, job)
    data = message_bytes(item, cache[chosen], job, now)
    return send_claimed(item, engine=engine, transport=transport, data=data, job=job, clock=tick)


def _record(
    engine: Engine, item: OutboxItem, outcome: Outcome, job: EmailJob, tick: Callable[[], datetime]
) -> None:
    with write_session(engine) as session:
        finish(session=session, item=item, outcome=outcome, now=tick(), retry_after=job.retry_after)
