"""Helpers shared by the page parsers. Pure; no I/O."""

from __future__ import annotations

import hashlib
import re
from datetime import date
from pathlib import PurePath

from pipeline.errors import ParseError
from pipeline.identity import fold_title
from pipeline.records import ParsedPaper

_NAME_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})")


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


def detect_format(text: str) -> str:
    """``"json"``, ``"html"`` or ``"text"``, by the first non-blank character of ``text``."""
    head = text.lstrip("\ufeff \t\r\n")[:1]
    if head in ("[", "{"):
        return "json"
    if head == "<":
        return "html"
    return "text"


def date_from_name(origin: str) -> date | None:
    """A YYYY-MM-DD date in a file name (``2026-08-21.json``), else None."""
    match = _NAME_DATE.search(PurePath(origin).name)
    if match is None:
        return None
    try:
        return date.fromisoformat(match.group(1))
    except ValueError:
        return None


def checked_title(title: str, *, origin: str, where: str) -> str:
    """``title`` if it can name a paper (has a letter or digit), else :class:`ParseError`.

    A title like ``"!!!"`` has no identity key; found by fuzzing (tests/test_fuzz_hostile.py):
    it used to pass the parser and crash the store with a ValueError.
    """
    if not fold_title(title):
        raise ParseError(origin, f"{where}: title {title[:60]!r} has no letters or digits")
    return title
