"""When editions are mailed: settling, the catch-up window. Pure; no I/O.

Hugging Face keeps adding papers to a day's list during that day (the API's ``date`` is the UTC
day a paper entered Daily Papers, docs/hf-formats.md §3), so a day's list is complete only once
the day is over. A daily edition of day D **settles** ``settle_hours`` after D ends (midnight
UTC); a weekly edition (an ISO week, Monday to Sunday) that long after its Sunday ends. With
the default 6 hours and the 07:30 UTC schedule, the morning mail is yesterday's complete list,
and Monday's also brings last week's weekly edition.

``paperboy run`` and ``paperboy emails`` mail an edition automatically only when it has settled
and its last day lies within the catch-up window (``[ingest] catch_up_max_days`` days up to
today, the days ``paperboy run`` fetches), so ingesting an archive never mails old digests
(issue 15 item 5); ``paperboy emails --edition D`` / ``--week W`` send an older one on request.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from pipeline.records import EditionRef


@dataclass(frozen=True, slots=True)
class Timing:
    """The two settings that decide when an edition is mailed."""

    settle: timedelta  # [email] settle_hours
    window_days: int  # [ingest] catch_up_max_days


def settles_at(ref: EditionRef, settle: timedelta) -> datetime:
    """When ``ref`` may be mailed: ``settle`` after its last day ends (midnight UTC)."""
    end = datetime.combine(ref.last_day + timedelta(days=1), time(0), tzinfo=UTC)
    return end + settle


def window_start(now: datetime, window_days: int) -> date:
    """The first day of the catch-up window: ``window_days`` days up to today (UTC)."""
    return now.astimezone(UTC).date() - timedelta(days=max(1, window_days) - 1)


def editions_of(days: Iterable[date], kinds: Iterable[str]) -> set[EditionRef]:
    """The editions of ``kinds`` that cover ``days`` (listing dates with papers)."""
    refs: set[EditionRef] = set()
    for kind in kinds:
        make = EditionRef.weekly if kind == "weekly" else EditionRef.daily
        refs.update(make(day) for day in days)
    return refs


def due_to_freeze(
    days: Iterable[date],
    frozen: Collection[EditionRef],
    *,
    kinds: Iterable[str],
    now: datetime,
    timing: Timing,
) -> list[EditionRef]:
    """Editions to freeze and mail now, oldest first: settled, within the window, not frozen."""
    start = window_start(now, timing.window_days)
    return sorted(
        (
            ref
            for ref in editions_of(days, kinds)
            if ref.last_day >= start and settles_at(ref, timing.settle) <= now
            and ref not in frozen
        ),
        key=lambda ref: ref.sort_key,
    )  # fmt: skip


def not_settled(
    days: Iterable[date], *, kinds: Iterable[str], now: datetime, timing: Timing
) -> list[tuple[EditionRef, datetime]]:
    """Editions with papers that have not settled yet, with when they settle, soonest first."""
    waiting = [(ref, settles_at(ref, timing.settle)) for ref in editions_of(days, kinds)]
    return sorted(((ref, at) for ref, at in waiting if at > now), key=lambda pair: pair[1])


def describe_wait(ref: EditionRef, at: datetime) -> str:
    """``edition 2026-08-21 settles at 2026-08-22 06:00 UTC`` (for notes and dry runs)."""
    what = f"weekly edition {ref.label}" if ref.kind == "weekly" else f"edition {ref.label}"
    return f"{what} settles at {at.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
