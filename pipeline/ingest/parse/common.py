"""Helpers shared by the page parsers. Pure; no I/O."""

from __future__ import annotations

import hashlib
import re
from datetime import date, timedelta
from pathlib import PurePath

from pipeline.errors import ParseError
from pipeline.identity import fold_title
from pipeline.records import ParsedPaper

_NAME_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})")
_ASCII_LETTER_OR_DIGIT = re.compile(r"[A-Za-z0-9]")
MAX_DAYS_AHEAD = 1  # UTC+14 is at most one calendar day ahead of UTC


def latest_listing_date(today: date) -> date:
    """The latest listing date a page may have when it is ``today`` in UTC.

    Time zones run to UTC+14, so a reader east of UTC may save tomorrow's (UTC) page; nothing
    later exists (issue 15.8: ``fetch --date 2030-01-01`` became the latest edition).
    """
    return today + timedelta(days=MAX_DAYS_AHEAD)


def infer_year(month: int, day: int, *, today: date) -> date:
    """The latest date with this month and day that is not after :func:`latest_listing_date`.

    A page header says ``Mar 14`` without a year; the page cannot list a future day, so the
    most recent such date is meant (Feb 29 looks back to the last leap year). A page dated
    tomorrow in UTC comes from a reader east of UTC, not from last year (issue 15.8: it was
    filed 364 days back and made every later page call its papers recurring).
    """
    latest = latest_listing_date(today)
    for year in range(latest.year, latest.year - 9, -1):
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue
        if candidate <= latest:
            return candidate
    raise ValueError(f"no valid date for month {month} day {day}")


def future_date_problem(day: date, *, today: date) -> str | None:
    """Why ``day`` cannot be a listing date yet (None when it can)."""
    if day <= latest_listing_date(today):
        return None
    return (
        f"listing date {day} is in the future (today is {today} UTC; a page may be at most "
        "one day ahead)"
    )


def check_not_future(day: date, *, today: date, origin: str) -> None:
    """Raise :class:`ParseError` for a listing date after :func:`latest_listing_date`."""
    problem = future_date_problem(day, today=today)
    if problem is not None:
        raise ParseError(origin, problem)


def content_hash(papers: tuple[ParsedPaper, ...]) -> str:
    """A stable hash of a page's papers (titles, abstracts, ids; not byte layout).

    Parsers hand over cleaned text (:func:`pipeline.identity.clean_text`), so layout differences
    (line endings, wraps) are gone before hashing.
    """
    # Each paper is ``id \x1f title \x1f abstract \x1f \x1e``; the page is hashed as one string
    # (the digest of a concatenation equals that of updates part by part, as it was computed).
    parts = [
        f"{paper.arxiv_id or ''}\x1f{paper.title}\x1f{paper.abstract}\x1f\x1e" for paper in papers
    ]
    return hashlib.sha256("".join(parts).encode("utf-8")).hexdigest()


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
    # An ASCII title (most) keeps exactly its letters and digits through fold_title (NFKC and
    # casefold change no ASCII letter), so one search answers without folding it.
    if title.isascii() and _ASCII_LETTER_OR_DIGIT.search(title):
        return title
    if not fold_title(title):
        raise ParseError(origin, f"{where}: title {title[:60]!r} has no letters or digits")
    return title
