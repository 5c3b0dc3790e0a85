"""Page parsers, one module per page format. Pure: text in, :class:`~pipeline.records.Page` out.

:func:`parse_saved_page` picks the parser for saved files by content (JSON, HTML, else text),
so a folder may mix formats.
"""

from __future__ import annotations

from datetime import date

from pipeline.errors import ParseError
from pipeline.ingest.parse.common import (
    check_not_future,
    content_hash,
    date_from_name,
    detect_format,
    infer_year,
)
from pipeline.ingest.parse.hf_api import decode_json, parse_api_json
from pipeline.ingest.parse.hf_html import parse_daily_html
from pipeline.ingest.parse.text_page import parse_text_page
from pipeline.records import Page

__all__ = ["content_hash", "date_from_name", "detect_format", "infer_year", "parse_saved_page"]


def parse_saved_page(
    text: str, *, origin: str, source: str, today: date, listing_date: date | None
) -> Page:
    """Parse a saved page of any known format (API JSON, daily papers HTML, text page)."""
    kind = detect_format(text)
    if kind == "text":
        return parse_text_page(
            text, origin=origin, source=source, today=today, listing_date=listing_date
        )
    day = listing_date or date_from_name(origin)
    if kind == "html":
        page = parse_daily_html(text, origin=origin, source=source, listing_date=day)
    elif day is None:
        decode_json(text, origin=origin)  # truncated or invalid JSON: say that first (15.11)
        raise ParseError(
            origin,
            "saved API JSON has no listing date: pass --date or name the file like 2026-08-21.json",
        )
    else:
        # saved archives may hold the collector defects of docs/hf-formats.md §2.8: accepted here
        page = parse_api_json(text, origin=origin, source=source, listing_date=day, lenient=True)
    check_not_future(page.listing_date, today=today, origin=origin)
    return page
