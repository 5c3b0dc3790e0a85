"""Parser for Hugging Face daily papers JSON (``/api/daily_papers?date=D``). Pure; no I/O.

The API answers a JSON array of entries ``{paper: {id, title, summary, authors, upvotes, ...},
title, summary, ...}`` (docs/hf-formats.md §2). :func:`parse_entries` turns such entries
into :class:`~pipeline.records.ParsedPaper` and is shared with the HTML extractor
(:mod:`pipeline.ingest.parse.hf_html`), whose embedded JSON holds the same entries. The
response carries no listing date: the caller passes the date it asked for.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from pipeline.errors import ParseError
from pipeline.identity import clean_text, extract_links, normalize_arxiv_id
from pipeline.ingest.parse.common import checked_title, content_hash
from pipeline.records import Page, ParsedPaper

# A Python-repr entry in the archive is ~5 KB; anything far larger is not a dump of one entry,
# and ast.literal_eval on huge or deeply nested input can exhaust memory or the stack.
REPR_ENTRY_MAX_CHARS = 200_000
_URL_KEYS = ("githubRepo", "projectPage")
# The longest real ai_summary is 437 characters and URLs are under 100 (docs/hf-formats.md §2.2):
# far longer values are not what the fields mean and would blow up emails.
SUMMARY_MAX_CHARS = 1_000
URL_MAX_CHARS = 2_000
# A Hugging Face paper id that is not an arXiv id goes into a URL path: letters, digits, . _ -
_HF_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


def _decode_repr(item: str, *, origin: str, index: int) -> Any:
    """One entry written as a Python repr (``{'paper': {..., 'hidden': False}}``).

    ``ast.literal_eval`` only builds literals (no names, calls or attribute access), so it is
    safe on untrusted text; the size bound keeps it from exhausting memory or the stack.
    """
    if len(item) > REPR_ENTRY_MAX_CHARS:
        raise ParseError(origin, f"entry {index} is a {len(item)}-character string, not an entry")
    try:
        return ast.literal_eval(item)
    except (ValueError, SyntaxError, RecursionError, MemoryError):
        raise ParseError(
            origin, f"entry {index} is a string that is neither an object nor a Python repr dump"
        ) from None


def _unwrap(data: Any, *, origin: str, lenient: bool, listing_date: date) -> list[Any]:
    """The list of entries, from the API's bare list or (leniently) a collector's wrapper."""
    if isinstance(data, list):
        return data
    if isinstance(data, dict):
        if lenient and isinstance(data.get("data"), list):
            stated = data.get("date")
            if stated is not None and str(stated) != listing_date.isoformat():
                raise ParseError(origin, f"wrapper says date {stated}, not {listing_date}")
            return list(data["data"])
        keys = ", ".join(sorted(map(str, data))[:8])
        error = data.get("error")
        detail = f" (error: {str(error)[:200]})" if error else ""
        raise ParseError(
            origin, f"expected a JSON list of entries, got an object with keys [{keys}]{detail}"
        )
    raise ParseError(origin, f"expected a JSON list of entries, got {type(data).__name__}")


def decode_json(text: str, *, origin: str) -> Any:
    """The JSON value of ``text``; empty, HTML, truncated or invalid text is a clear error."""
    body = text.lstrip("\ufeff \t\r\n")
    if not body:
        raise ParseError(origin, "empty response: expected a JSON list of entries")
    if body.startswith("<"):
        raise ParseError(origin, f"HTML served instead of JSON (starts with {body[:40]!r})")
    try:
        return json.loads(body)
    except json.JSONDecodeError as exc:
        if exc.pos >= len(body.rstrip()) or exc.msg.startswith("Unterminated string"):
            raise ParseError(
                origin, f"truncated JSON: the text ends after {len(body)} characters"
            ) from None
        raise ParseError(
            origin, f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from None


def load_entries(text: str, *, origin: str, listing_date: date, lenient: bool) -> list[Any]:
    """Decode the JSON text of a daily papers response into raw entry objects.

    ``lenient`` accepts the two defects of saved archives (docs/hf-formats.md §2.8): a list of
    Python-repr strings and a ``{"status", "date", "data": [...]}`` wrapper. Both come from a
    third-party collector, never from the API, so live responses are parsed strictly: a string
    or wrapper from the live API means something else answered, and we refuse it.
    """
    data = decode_json(text, origin=origin)
    items = _unwrap(data, origin=origin, lenient=lenient, listing_date=listing_date)
    if lenient:
        items = [
            _decode_repr(item, origin=origin, index=i) if isinstance(item, str) else item
            for i, item in enumerate(items, start=1)
        ]
    return items


def _text(value: Any, *, origin: str, what: str) -> str:
    if not isinstance(value, str):
        raise ParseError(origin, f"{what} is {type(value).__name__}, expected a string")
    return clean_text(value)


def _names(authors: Any) -> tuple[str, ...]:
    if not isinstance(authors, list):
        return ()
    names = (
        clean_text(a["name"])
        for a in authors
        if isinstance(a, dict) and isinstance(a.get("name"), str) and not a.get("hidden")
    )
    return tuple(name for name in names if name)


def _url(value: Any) -> str | None:
    """A link the source gives (``githubRepo``, ``projectPage``): http(s), no spaces, else None."""
    if not isinstance(value, str):
        return None
    url = value.strip()
    ok = url.startswith(("https://", "http://")) and len(url) <= URL_MAX_CHARS
    return url if ok and not any(ch.isspace() or ord(ch) < 32 for ch in url) else None


def _count(value: Any) -> int | None:
    """A count the source gives (upvotes, comments, stars): a non-negative int, else None."""
    ok = isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**31
    return value if ok else None


def _links(paper: Mapping[str, Any], summary: str) -> tuple[str, ...]:
    given = [url for url in (_url(paper.get(key)) for key in _URL_KEYS) if url]
    return tuple(dict.fromkeys([*given, *extract_links(summary)]))


def _paper_id(paper: Mapping[str, Any], *, origin: str, where: str) -> tuple[str | None, str]:
    raw = paper.get("id")
    if raw is None or raw == "":
        raise ParseError(origin, f"{where} has no paper.id")
    if not isinstance(raw, str):
        # a float round-trip turns 2503.02130 into 2503.0213 (docs/hf-formats.md §0.2): refuse it
        raise ParseError(origin, f"{where}: paper.id {raw!r} is a number, expected a string")
    return normalize_arxiv_id(raw), raw


def parse_entry(item: Any, *, origin: str, rank: int) -> ParsedPaper:
    """One daily papers entry as a :class:`ParsedPaper` (rank is its 1-based position)."""
    where = f"entry {rank}"
    if isinstance(item, str):
        raise ParseError(
            origin, f"{where} is a string, not an object (a Python-repr dump? refused from the API)"
        )
    if not isinstance(item, dict) or not isinstance(item.get("paper"), dict):
        raise ParseError(origin, f"{where} has no 'paper' object")
    paper: Mapping[str, Any] = item["paper"]
    arxiv_id, raw_id = _paper_id(paper, origin=origin, where=where)
    title_value = item.get("title") or paper.get("title")
    if not title_value:
        raise ParseError(origin, f"{where} ({raw_id}) has no title")
    title = _text(title_value, origin=origin, what=f"{where} title")
    checked_title(title, origin=origin, where=f"{where} ({raw_id})")
    summary_value = paper.get("summary", item.get("summary", ""))
    summary = _text(summary_value, origin=origin, what=f"{where} summary")
    keywords = paper.get("ai_keywords")
    ai_summary = paper.get("ai_summary")
    return ParsedPaper(
        title=title,
        abstract=summary,
        rank=rank,
        arxiv_id=arxiv_id,
        links=_links(paper, summary),
        authors=_names(paper.get("authors")),
        keywords=tuple(clean_text(k) for k in keywords if isinstance(k, str) and clean_text(k))
        if isinstance(keywords, list)
        else (),
        upvotes=_count(paper.get("upvotes")),
        comments=_count(item.get("numComments")),
        ai_summary=clean_text(ai_summary)[:SUMMARY_MAX_CHARS] or None
        if isinstance(ai_summary, str)
        else None,
        github_repo=_url(paper.get("githubRepo")),
        github_stars=_count(paper.get("githubStars")),
        project_page=_url(paper.get("projectPage")),
        # no arXiv id: identity falls back to the title (docs/hf-formats.md §5.2), and the paper
        # links to its Hugging Face page only if the id is safe to put in a URL (issue 15 item 11)
        hf_id=raw_id if arxiv_id is None and _HF_ID.fullmatch(raw_id) else None,
    )


def parse_entries(items: Sequence[Any], *, origin: str) -> tuple[ParsedPaper, ...]:
    """All entries of a day, in the order given (the API orders by upvotes)."""
    return tuple(parse_entry(item, origin=origin, rank=i) for i, item in enumerate(items, 1))


def entry_dates(items: Sequence[Any]) -> set[str]:
    """The listing dates the entries state (``paper.submittedOnDailyAt``, since 2025-03-17)."""
    found = set()
    for item in items:
        paper = item.get("paper") if isinstance(item, dict) else None
        stamp = paper.get("submittedOnDailyAt") if isinstance(paper, dict) else None
        if isinstance(stamp, str) and len(stamp) >= 10:
            found.add(stamp[:10])
    return found


def check_entry_dates(items: Sequence[Any], *, origin: str, listing_date: date) -> None:
    """Refuse a day whose entries all state another listing date (a clamped answer)."""
    stated = entry_dates(items)
    if stated and listing_date.isoformat() not in stated:
        shown = ", ".join(sorted(stated)[:3])
        raise ParseError(origin, f"entries are listed on {shown}, not {listing_date}")


def parse_api_json(
    text: str, *, origin: str, source: str, listing_date: date, lenient: bool = False
) -> Page:
    """Parse a daily papers API response for ``listing_date``; ``[]`` is a valid empty day."""
    items = load_entries(text, origin=origin, listing_date=listing_date, lenient=lenient)
    check_entry_dates(items, origin=origin, listing_date=listing_date)
    papers = parse_entries(items, origin=origin)
    return Page(
        source=source,
        origin=origin,
        listing_date=listing_date,
        papers=papers,
        content_hash=content_hash(papers),
    )
