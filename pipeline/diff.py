"""New versus recurring papers. Pure; no I/O.

For a digest of date D: **new** are the papers whose first appearance is D, **recurring** the
papers listed on D that appeared on an earlier date. Because it depends only on each paper's
earliest listing date, the answer is the same whatever order pages are ingested in.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from pipeline.records import Changes


def diff_papers(earliest: Mapping[str, date | None], listing_date: date) -> Changes:
    """Split paper keys listed on ``listing_date`` by their earliest known listing date.

    ``earliest`` maps each key on the page to the earliest date it was seen on any page
    (``None`` if never seen before); keys keep the page's order.
    """
    new: list[str] = []
    recurring: list[str] = []
    for key, first in earliest.items():
        if first is not None and first < listing_date:
            recurring.append(key)
        else:
            new.append(key)
    return Changes(new=tuple(new), recurring=tuple(recurring))


def prefer_text(
    current: tuple[date, str, str], incoming: tuple[date, str, str]
) -> tuple[date, str, str]:
    """Which (listing date, title, abstract) version of a paper to keep: the earliest listing.

    Ties go to the smaller text, so the choice is a total order and the store ends the same
    whatever order pages arrive in.
    """
    return min(current, incoming)
