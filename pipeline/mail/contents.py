"""What an edition lists, from its frozen listings: daily and weekly. Pure; no I/O.

A daily edition lists its day's papers (new, then back again) and the papers added late to
earlier days. A weekly edition lists, per topic the subscriber chose, the week's best papers
(:func:`rank_for_week`), each paper once in the whole message, then the papers added late to
earlier weeks. In both, a paper is listed at most once per message: a late listing of a paper
that the edition lists anyway is shown where the paper is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pipeline.records import (
    ALL_TOPICS,
    Edition,
    EditionRef,
    FrozenPaper,
    LatePaper,
    StoredPaper,
)


def community_order(row: FrozenPaper) -> tuple[bool, int, int, str]:
    """Most upvoted first (papers without a count last), then best page rank, then key."""
    upvotes = row.paper.upvotes
    return (upvotes is None, -(upvotes or 0), row.rank, row.paper.key)


def rank_for_week(papers: Sequence[FrozenPaper]) -> list[FrozenPaper]:
    """The week's papers best first, ranked by the community (upvotes), then page rank."""
    return sorted(papers, key=community_order)


def _best_per_paper(rows: Sequence[FrozenPaper]) -> list[FrozenPaper]:
    """One listing per paper: its best rank (then its earliest date)."""
    best: dict[str, FrozenPaper] = {}
    for row in rows:
        held = best.get(row.paper.key)
        if held is None or (row.rank, row.listed_on) < (held.rank, held.listed_on):
            best[row.paper.key] = row
    return list(best.values())


def build_edition(ref: EditionRef, rows: Sequence[FrozenPaper]) -> Edition:
    """The :class:`Edition` of a frozen edition's listings."""
    main = [row for row in rows if not row.late]
    new: tuple[StoredPaper, ...]
    recurring: tuple[StoredPaper, ...]
    if ref.kind == "weekly":
        ranked = [row.paper for row in rank_for_week(_best_per_paper(main))]
        new, recurring = tuple(ranked), ()
    else:
        ordered = sorted(main, key=community_order)  # ranked by upvotes, then page rank
        new = tuple(row.paper for row in ordered if not row.recurring)
        recurring = tuple(row.paper for row in ordered if row.recurring)
    listed = {paper.key for paper in (*new, *recurring)}
    late_rows = sorted(
        (row for row in rows if row.late and row.paper.key not in listed),
        key=lambda row: (row.listed_on, row.rank, row.paper.key),
    )
    late: list[LatePaper] = []
    for row in late_rows:  # a paper late on two dates is listed once, at the first
        if all(held.paper.key != row.paper.key for held in late):
            late.append(LatePaper(row.listed_on, row.paper))
    return Edition(day=ref.day, new=new, recurring=recurring, kind=ref.kind, late=tuple(late))


@dataclass(frozen=True, slots=True)
class Section:
    """One section of a message: a heading, the papers shown, how many there are in all."""

    name: str
    papers: tuple[StoredPaper, ...]
    total: int
    recurring: bool = False  # show "seen N times since"
    note: str = ""  # a line under the heading


def late_note(late: Sequence[LatePaper]) -> str:
    """The line under "Added late": which days' lists the papers joined."""
    days = sorted({item.listed_on for item in late})
    names = [f"{day:%a} {day.day} {day:%b}" for day in days]
    joined = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    lists, digest = ("list", "that day's digest") if len(days) == 1 else ("lists", "their digests")
    return f"Hugging Face added these papers to the {lists} of {joined} after {digest} went out."


def sections_for(
    edition: Edition, *, chosen: Sequence[str], titles: dict[str, str], per_topic: int, cap: int
) -> list[Section]:
    """The sections of one topic set's message, ``edition`` already cut to those topics.

    A subscriber to everything (``all``) gets every topic's papers and, in an "Other" section
    after them, the papers no topic takes (issue 12).
    """
    everything = ALL_TOPICS in chosen
    if everything:
        chosen = [slug for slug in titles if slug != ALL_TOPICS]
    other = [p for p in (*edition.new, *edition.recurring) if everything and not p.topics]
    if edition.kind == "weekly":
        sections, shown = [], set[str]()
        for slug in chosen:
            mine = [p for p in edition.new if slug in p.topics and p.key not in shown]
            picked = tuple(mine[: min(per_topic, cap)])
            shown.update(p.key for p in picked)
            if picked:
                sections.append(Section(titles.get(slug, slug), picked, len(mine)))
        late = [item for item in edition.late if item.paper.key not in shown]
    else:
        new = [p for p in edition.new if p.topics or not everything]
        recurring = [p for p in edition.recurring if p.topics or not everything]
        sections = [
            Section("New", tuple(new[:cap]), len(new)),
            Section("Back again", tuple(recurring[:cap]), len(recurring), True),
        ]
        late = list(edition.late)
    if other:
        sections.append(Section("Other", tuple(other[:cap]), len(other)))
    if late:
        papers = tuple(item.paper for item in late[:cap])
        sections.append(Section("Added late", papers, len(late), note=late_note(late)))
    return sections
