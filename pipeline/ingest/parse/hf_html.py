"""Parser for Hugging Face daily papers HTML pages (``/papers/date/D``). Pure; no I/O.

The page embeds the day's entries as HTML-escaped JSON in ``<div data-target="DailyPapers"
data-props="{...}">`` under ``dailyPapers`` (same entries as the API, docs/hf-formats.md §4.1), and
its own date under ``dateString``. Hugging Face shows the latest published day for an empty or
future date instead of a 404, so the page date is compared with the date asked for.

There is no fallback to the visible cards: they carry no abstract, authors or date (WebSculpt
``list-papers/evidence.md``), and storing papers without abstracts would make an empty text the
kept version of a paper. A page without the JSON anchor is refused, nothing is stored.
"""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any

from selectolax.lexbor import LexborHTMLParser

from pipeline.errors import ParseError
from pipeline.ingest.parse.common import content_hash
from pipeline.ingest.parse.hf_api import check_entry_dates, parse_entries
from pipeline.records import Page

ANCHOR = '[data-target="DailyPapers"]'
_CARD_LINKS = 'article h3 a[href^="/papers/"]'
_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})")


def _props(tree: LexborHTMLParser, *, origin: str) -> dict[str, Any]:
    node = tree.css_first(ANCHOR)
    if node is None:
        cards = len(tree.css(_CARD_LINKS))
        if cards:
            raise ParseError(
                origin,
                f"no DailyPapers data on the page (layout changed?); {cards} paper cards found, "
                "but cards carry no abstracts, so nothing was ingested",
            )
        raise ParseError(origin, "no DailyPapers data on the page: not a daily papers page?")
    raw = node.attributes.get("data-props")
    if not raw:
        raise ParseError(origin, "DailyPapers element has no data-props (layout changed?)")
    try:
        props = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ParseError(origin, f"DailyPapers data-props is not valid JSON: {exc.msg}") from None
    if not isinstance(props, dict) or not isinstance(props.get("dailyPapers"), list):
        raise ParseError(origin, "DailyPapers data has no dailyPapers list (layout changed?)")
    return props


def _page_date(props: dict[str, Any], *, origin: str) -> date:
    stated = props.get("dateString")
    match = _DATE.match(stated) if isinstance(stated, str) else None
    if match is None:
        raise ParseError(origin, f"DailyPapers data has no readable dateString ({stated!r})")
    try:
        return date.fromisoformat(match.group(1))
    except ValueError:
        raise ParseError(origin, f"DailyPapers dateString {stated!r} is not a date") from None


def parse_daily_html(
    text: str, *, origin: str, source: str, listing_date: date | None = None
) -> Page:
    """Parse a daily papers page; ``listing_date`` (if given) must be the page's own date."""
    props = _props(LexborHTMLParser(text), origin=origin)
    period = props.get("periodType", "day")
    if period != "day":
        raise ParseError(origin, f"page lists a {period}, not a day")
    shown = _page_date(props, origin=origin)
    if listing_date is not None and shown != listing_date:
        raise ParseError(
            origin,
            f"page shows {shown}, not {listing_date} (Hugging Face shows the latest day "
            "when a date has no papers yet)",
        )
    items = props["dailyPapers"]
    check_entry_dates(items, origin=origin, listing_date=shown)
    papers = parse_entries(items, origin=origin)
    return Page(
        source=source,
        origin=origin,
        listing_date=shown,
        papers=papers,
        content_hash=content_hash(papers),
    )
