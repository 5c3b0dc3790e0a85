"""Page parsers, one module per page format. Pure: text in, :class:`~pipeline.records.Page` out.

:func:`parse_saved_page` picks the parser for saved files by content (JSON, HTML, else text),
so a folder may mix formats.
"""

from __future__ import annotations

import hashlib
import re
from datetime import date
from pathlib import PurePath

from pipeline.errors import ParseError
from pipeline.identity import clean_text
from pipeline.records import Page, ParsedPaper

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
    """A stable hash of a page's papers (titles, abstracts, ids; not byte layout)."""
    digest = hashlib.sha256()
    for paper in papers:
        for part in (paper.arxiv_id or "", clean_text(paper.title), clean_text(paper.abstract)):
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


def parse_saved_page(
    text: str, *, origin: str, source: str, today: date, listing_date: date | None
) -> Page:
    """Parse a saved page of any known format (API JSON, daily papers HTML, text page)."""
    # local imports: the format modules import content_hash from this package
    from pipeline.parse.hf_api import parse_api_json
    from pipeline.parse.hf_html import parse_daily_html
    from pipeline.parse.text_page import parse_text_page

    kind = detect_format(text)
    if kind == "text":
        return parse_text_page(
            text, origin=origin, source=source, today=today, listing_date=listing_date
        )
    day = listing_date or date_from_name(origin)
    if kind == "html":
        return parse_daily_html(text, origin=origin, source=source, listing_date=day)
    if day is None:
        raise ParseError(
            origin,
            "saved API JSON has no listing date: pass --date or name the file like 2026-08-21.json",
        )
    # saved archives may hold the collector defects of HF_FORMATS.md 2.8: accept them here
    return parse_api_json(text, origin=origin, source=source, listing_date=day, lenient=True)
