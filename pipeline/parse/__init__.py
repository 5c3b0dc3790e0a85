"""Page parsers, one module per page format. Pure: text in, :class:`~pipeline.records.Page` out.

``detect_format`` picks the parser for saved files by content, so a folder may mix formats.
"""

from __future__ import annotations

import hashlib
from datetime import date

from pipeline.records import ParsedPaper


def infer_year(month: int, day: int, *, today: date) -> date:
    """The latest date with this month and day that is not after ``today``.

    A page header says ``Mar 14`` without a year; the page cannot list a future day, so the
    most recent such date is meant (Feb 29 looks back to the last leap year).
    """
    for year in range(today.year, today.year - 9, -1):
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue
        if candidate <= today:
            return candidate
    raise ValueError(f"no valid date for month {month} day {day}")


def content_hash(papers: tuple[ParsedPaper, ...]) -> str:
    """A stable hash of a page's papers (titles, abstracts, ids; not byte layout).

    Parsers hand over cleaned text (:func:`pipeline.identity.clean_text`), so layout differences
    (line endings, wraps) are gone before hashing.
    """
    digest = hashlib.sha256()
    for paper in papers:
        for part in (paper.arxiv_id or "", paper.title, paper.abstract):
            digest.update(part.encode("utf-8"))
            digest.update(b"\x1f")
        digest.update(b"\x1e")
    return digest.hexdigest()
