"""Dry runs of the email stage: what would be frozen, planned and sent, and when. I/O edge: the
database, in a transaction that is always rolled back (so the freezing code itself computes
what a real run would freeze, and nothing is kept).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from pipeline.mail.contents import build_edition
from pipeline.mail.plan import recipients
from pipeline.mail.render import PaperViews
from pipeline.mail.send import EmailJob, render_for
from pipeline.mail.settle import settles_at, window_start
from pipeline.records import EditionRef
from pipeline.store.engine import scratch_session
from pipeline.store.frozen_editions import freeze_edition, frozen_papers
from pipeline.store.outbox import outbox_counts
from pipeline.store.subscribers import select_subscribers

if TYPE_CHECKING:
    from sqlalchemy import Engine


@dataclass(frozen=True)
class EditionPreview:
    """What mailing one edition would do now."""

    ref: EditionRef
    settles_at: datetime
    settled: bool
    frozen: bool  # its papers are fixed already (planned by an earlier run)
    papers: int  # on time (daily: new and back again; weekly: the week's)
    late: int  # added late to earlier editions' days
    subscribers: int  # active subscribers of its frequency
    recipients: int  # of them, those it has papers for
    topic_sets: int
    largest_html: int  # bytes
    rows: dict[str, int] = field(default_factory=dict)  # its outbox rows by state


def preview_editions(
    engine: Engine,
    refs: Sequence[EditionRef],
    *,
    job: EmailJob,
    now: datetime,
    settle_hours: int,
    on_request: bool = False,
) -> list[EditionPreview]:
    """Preview ``refs`` in order, as one run would handle them (an earlier one may take late
    papers a later one would otherwise carry); nothing is written. ``on_request``: as
    ``paperboy emails --edition D`` would (every active subscriber), else as a run would."""
    found = []
    with scratch_session(engine) as session:
        subscribers = select_subscribers(session=session, status="active")
        for ref in refs:
            froze = freeze_edition(
                session=session, ref=ref, topics=job.topics, now=now,
                late_since=window_start(now, job.window_days),
            )  # fmt: skip
            listed = frozen_papers(session=session, ref=ref)
            edition = build_edition(ref, listed or [])
            rows = outbox_counts(session=session, edition=ref.day, kind=ref.kind)
            at = settles_at(ref, timedelta(hours=settle_hours))
            wanted = recipients(edition, subscribers, job, joined_by=None if on_request else at)
            sets = sorted({topics for _sid, _msgid, topics in wanted})
            views = PaperViews()  # each paper's view built once for the edition's topic sets
            largest = max(
                (len(render_for(edition, list(t), job, views=views).html.encode()) for t in sets),
                default=0,
            )
            found.append(
                EditionPreview(
                    ref=ref,
                    settles_at=at,
                    settled=at <= now,
                    frozen=listed is not None and not froze,
                    papers=len(edition.new) + len(edition.recurring),
                    late=len(edition.late),
                    subscribers=sum(1 for s in subscribers if s.frequency_on(ref.day) == ref.kind),
                    recipients=len(wanted),
                    topic_sets=len(sets),
                    largest_html=largest,
                    rows=rows,
                )
            )
    return found
