"""Parser for saved text digest pages (the format of examples/pages/page-*.txt). Pure; no I/O.

Layout: a few header lines (``new``, ``Subscribe``, ``Daily Papers``...), one line with the
listing date (``Mar 14``, ``March 14`` or ``Mar 8, 2024``), then blocks separated by blank lines
that alternate title / abstract. An abstract may be hard-wrapped (lines joined with spaces);
a block too long to be a title is a further paragraph of the previous abstract.
"""

from __future__ import annotations

import re
from datetime import date

from pipeline.errors import ParseError
from pipeline.identity import clean_text, extract_links
from pipeline.ingest.parse.common import (
    check_not_future,
    checked_title,
    content_hash,
    infer_year,
)
from pipeline.records import Page, ParsedPaper

# The date line must appear among the first lines of a page; real headers have 5-6 lines.
HEADER_MAX_LINES = 15
# No title in 9,581 real entries is longer than ~300 characters (docs/hf-formats.md §2.2); a longer
# block after an abstract is a second paragraph of that abstract, not a title.
TITLE_MAX_CHARS = 500
_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for name in names
}
_DATE_LINE = re.compile(r"^(?P<month>[A-Za-z]{3,9})\.? (?P<day>\d{1,2})(?:, (?P<year>\d{4}))?$")
_BLANK_LINES = re.compile(r"\n[ \t]*\n")


def _date_parts(line: str) -> tuple[int, int, int | None] | None:
    """(month, day, year or None) of a line shaped like a date line, else None."""
    match = _DATE_LINE.match(line.strip())
    if not match or match.group("month").lower() not in _MONTHS:
        return None
    year = int(match.group("year")) if match.group("year") else None
    return _MONTHS[match.group("month").lower()], int(match.group("day")), year


def parse_listing_date(line: str, *, today: date) -> date | None:
    """The date of a header line such as ``Mar 14`` or ``Mar 8, 2024``, else None."""
    parts = _date_parts(line)
    if parts is None:
        return None
    month, day, year = parts
    try:
        if year is not None:
            return date(year, month, day)
        return infer_year(month, day, today=today)
    except ValueError:
        return None


def _find_date_line(text: str, *, origin: str, today: date) -> tuple[date, str, int]:
    """The listing date, its line (stripped) and the offset where the body starts after it.

    Walks the header line by line from the top without splitting the rest of the page.
    """
    seen = 0
    start = 0
    while True:
        end = text.find("\n", start)
        if end < 0:
            end = len(text)
        line = text[start:end].strip()
        if line:
            found = parse_listing_date(line, today=today)
            if found:
                return found, line, end + 1
            if _date_parts(line) is not None:  # "Feb 30": a date line, not a missing one (15.11)
                raise ParseError(origin, f"date line {line!r} is not a valid date")
            seen += 1
            if seen >= HEADER_MAX_LINES:
                break
        if end == len(text):
            break
        start = end + 1
    raise ParseError(
        origin,
        f"no listing date line (like 'Mar 14') in the first {HEADER_MAX_LINES} lines: "
        "not a daily papers text page?",
    )


def _blocks(body: str) -> list[str]:
    """The body's blank-line separated blocks, each cleaned once (wraps and runs folded).

    A block of whitespace only is dropped; one whose characters are all dropped as control
    characters stays (as ``""``), as it always has.
    """
    return [block for raw in _BLANK_LINES.split(body) if (block := clean_text(raw)) or raw.strip()]


def _pair_blocks(blocks: list[str], *, origin: str) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    title: str | None = None
    for block in blocks:
        if title is None:
            if len(block) > TITLE_MAX_CHARS and pairs:
                last_title, last_abstract = pairs[-1]
                pairs[-1] = (last_title, f"{last_abstract}\n\n{block}")
                continue
            if len(block) > TITLE_MAX_CHARS:
                raise ParseError(
                    origin,
                    f"first block after the date is {len(block)} characters: expected a title",
                )
            title = block
        else:
            pairs.append((title, block))
            title = None
    if title is not None:
        raise ParseError(
            origin,
            f"truncated: paper {len(pairs) + 1} ({title[:60]!r}) has a title but no abstract",
        )
    return pairs


def parse_text_page(
    text: str, *, origin: str, source: str, today: date, listing_date: date | None = None
) -> Page:
    """Parse a saved text page; ``listing_date`` overrides the header date's inferred year."""
    if text[:1] == "\ufeff":
        text = text.lstrip("\ufeff")
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text or text.isspace():
        raise ParseError(origin, "empty page")
    header_date, date_line, body_start = _find_date_line(text, origin=origin, today=today)
    check_not_future(listing_date or header_date, today=today, origin=origin)
    blocks = _blocks(text[body_start:])
    papers: list[ParsedPaper] = []
    for rank, (title, abstract) in enumerate(_pair_blocks(blocks, origin=origin), start=1):
        papers.append(
            ParsedPaper(
                title=checked_title(title, origin=origin, where=f"paper {rank}"),
                abstract=abstract,
                rank=rank,
                links=extract_links(abstract),
            )
        )
    if not papers:  # headers only: saved before the list loaded (issue 15.8), not an empty day
        raise ParseError(
            origin,
            f"no papers after the date line {date_line!r}: nothing to "
            "store (was the page saved before its list loaded?)",
        )
    found = tuple(papers)
    return Page(
        source=source,
        origin=origin,
        listing_date=listing_date or header_date,
        papers=found,
        content_hash=content_hash(found),
    )
