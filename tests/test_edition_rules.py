"""The pure rules of editions: settling, the catch-up window, ISO weeks, what a message lists."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from pipeline.errors import ConfigError
from pipeline.mail.contents import build_edition, late_note, rank_for_week, sections_for
from pipeline.mail.settle import Timing, due_to_freeze, not_settled, settles_at
from pipeline.records import EditionRef, FrozenPaper, StoredPaper

TIMING = Timing(settle=timedelta(hours=6), window_days=14)
THU, FRI, SUN = date(2026, 8, 20), date(2026, 8, 21), date(2026, 8, 23)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_edition_refs_label_weeks_and_parse_them() -> None:
    assert EditionRef.daily(THU).label == "2026-08-20"
    week = EditionRef.weekly(SUN)
    assert (week.day, week.last_day, week.label) == (date(2026, 8, 17), SUN, "2026-W34")
    assert EditionRef.parse_week("2026-W34") == week == EditionRef.weekly(THU)
    assert EditionRef.parse_week("2020-W53").day == date(2020, 12, 28)  # a 53-week year
    assert EditionRef.weekly(date(2027, 1, 1)).label == "2026-W53"  # ISO year, not calendar
    for bad in ("2026-34", "2021-W53", "W05", "2026-W5x", ""):
        with pytest.raises(ConfigError, match="is not an ISO week like 2026-W05"):
            EditionRef.parse_week(bad)


def test_a_day_settles_after_it_ends_a_week_after_its_sunday() -> None:
    assert settles_at(EditionRef.daily(THU), TIMING.settle) == at("2026-08-21T06:00:00")
    assert settles_at(EditionRef.weekly(THU), TIMING.settle) == at("2026-08-24T06:00:00")
    assert settles_at(EditionRef.daily(THU), timedelta(0)) == at("2026-08-21T00:00:00")


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        ("2026-08-20T23:59:00", []),  # Thursday's list is still growing
        ("2026-08-21T05:59:00", []),  # over, not settled
        ("2026-08-21T06:00:00", [EditionRef.daily(THU)]),
        ("2026-08-24T07:30:00", [EditionRef.daily(THU), EditionRef.daily(FRI)]),
        ("2026-09-03T07:30:00", [EditionRef.daily(FRI)]),  # Thursday left the 14-day window
        ("2026-09-04T07:30:00", []),  # both did: an archive is never mailed by itself
    ],
)
def test_due_daily_editions_are_settled_and_in_the_window(now: str, expected: list) -> None:
    assert due_to_freeze([THU, FRI], (), kinds=["daily"], now=at(now), timing=TIMING) == expected


def test_frozen_editions_are_not_due_again_and_weeks_need_weekly_subscribers() -> None:
    now = at("2026-08-24T07:30:00")
    frozen = {EditionRef.daily(THU)}
    due = due_to_freeze([THU, FRI], frozen, kinds=["daily", "weekly"], now=now, timing=TIMING)
    assert due == [EditionRef.daily(FRI), EditionRef.weekly(THU)]  # oldest last day first
    assert due_to_freeze([THU], (), kinds=[], now=now, timing=TIMING) == []
    waiting = not_settled([THU, FRI], kinds=["daily", "weekly"], now=at("2026-08-21T12:00:00"),
                          timing=TIMING)  # fmt: skip
    assert waiting == [
        (EditionRef.daily(FRI), at("2026-08-22T06:00:00")),
        (EditionRef.weekly(FRI), at("2026-08-24T06:00:00")),
    ]


def paper(key: str, *topics: str) -> StoredPaper:
    return StoredPaper(
        key=key, title=key.upper(), abstract="", arxiv_id=None, links=(), first_seen=THU,
        last_seen=FRI, times_seen=1, topics=topics or ("a",),
    )  # fmt: skip


def listing(key: str, day: date, rank: int, *topics: str, late: bool = False,
            recurring: bool = False) -> FrozenPaper:  # fmt: skip
    return FrozenPaper(paper(key, *topics), day, rank, recurring, late)


def test_daily_edition_lists_a_paper_once_even_if_it_was_also_added_late() -> None:
    rows = [
        listing("p1", FRI, 2),
        listing("p2", FRI, 1, recurring=True),
        listing("p3", THU, 5, late=True),
        listing("p1", THU, 7, late=True),  # late for Thursday, listed on Friday anyway
        listing("p3", date(2026, 8, 19), 1, late=True),  # late on two days: once
    ]
    edition = build_edition(EditionRef.daily(FRI), rows)
    assert [p.key for p in edition.new] == ["p1"]
    assert [p.key for p in edition.recurring] == ["p2"]
    assert [(item.listed_on, item.paper.key) for item in edition.late] == [
        (date(2026, 8, 19), "p3")
    ]
    names = [s.name for s in sections_for(edition, chosen=["a"], titles={}, per_topic=10, cap=25)]
    assert names == ["New", "Back again", "Added late"]


def test_late_note_names_the_days() -> None:
    one = build_edition(EditionRef.daily(FRI), [listing("p", THU, 1, late=True)]).late
    assert late_note(one) == (
        "Hugging Face added these papers to the list of Thu 20 Aug after that day's digest "
        "went out."
    )
    two = build_edition(
        EditionRef.daily(FRI),
        [listing("p", THU, 1, late=True), listing("q", date(2026, 8, 19), 1, late=True)],
    ).late
    assert late_note(two) == (
        "Hugging Face added these papers to the lists of Wed 19 Aug and Thu 20 Aug after their "
        "digests went out."
    )


def test_weekly_edition_ranks_the_week_and_lists_each_paper_once_per_message() -> None:
    rows = [
        listing("x", THU, 3, "a", "b"),
        listing("x", FRI, 1, "a", "b"),  # listed twice in the week: once, at its best rank
        listing("y", THU, 1, "a"),
        listing("z", FRI, 2, "b"),
        listing("w", SUN, 4, "b"),
    ]
    week = EditionRef.weekly(THU)
    assert [r.paper.key for r in rank_for_week(rows)][:2] == ["x", "y"]  # rank 1s, by key
    edition = build_edition(week, rows)
    assert [p.key for p in edition.new] == ["x", "y", "z", "w"]
    found = sections_for(edition, chosen=["a", "b"], titles={"a": "A", "b": "B"}, per_topic=2,
                         cap=25)  # fmt: skip
    assert [(s.name, [p.key for p in s.papers], s.total) for s in found] == [
        ("A", ["x", "y"], 2),
        ("B", ["z", "w"], 2),  # x was listed under A already
    ]


def test_a_change_of_frequency_waits_for_the_next_monday_and_can_be_taken_back() -> None:
    from pipeline.addresses import change_frequency

    thursday, monday = date(2026, 8, 20), date(2026, 8, 24)
    asked = change_frequency(("daily", None, None), "weekly", today=thursday)
    assert asked == ("weekly", "daily", monday)
    assert change_frequency(asked, "weekly", today=thursday) == asked  # asking again: unchanged
    assert change_frequency(asked, "daily", today=thursday) == ("daily", None, None)  # taken back
    assert change_frequency(asked, "daily", today=monday) == ("daily", "weekly", date(2026, 8, 31))
    assert change_frequency(("daily", None, None), "daily", today=thursday) == ("daily", None, None)
