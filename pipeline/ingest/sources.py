"""One listing date from one configured source: fetch, parse, store. I/O edge: network, files, DB.

Kinds (``Config.sources``): ``hf-api`` pages through ``{base}/api/daily_papers?date=D&limit=100``
with ``p`` while a full page comes back; ``hf-html`` reads ``{base}/papers/date/D``; ``files``
reads the saved page named with D from the source's folder. Nothing is stored unless the whole
day fetched and parsed; validators for conditional GET are stored with the page, in one
transaction. A 304 makes the day :class:`Unchanged`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from pipeline.config import HttpConfig, SourceConfig
from pipeline.errors import FetchError, ParseError
from pipeline.identity import normalize_arxiv_id
from pipeline.ingest.fetch import Fetched, fetch_url
from pipeline.ingest.files import is_page_name, read_page_file
from pipeline.ingest.parse import content_hash, parse_saved_page
from pipeline.ingest.parse.charset import decode_html_bytes, decode_json_bytes
from pipeline.ingest.parse.common import check_not_future
from pipeline.ingest.parse.hf_api import check_entry_dates, load_entries, parse_entries
from pipeline.ingest.parse.hf_html import parse_daily_html
from pipeline.records import Page, PageReport, Validators
from pipeline.store.engine import read_session, write_session
from pipeline.store.fetch_state import (
    load_fetch_state,
    save_deferral,
    save_validators,
    stored_paper_count,
)
from pipeline.store.papers import store_page

if TYPE_CHECKING:
    import httpx
    from sqlalchemy import Engine
    from sqlmodel import Session

API_PAGE_SIZE = 100  # the API's largest page; the default 50 truncates big days
MAX_API_PAGES = 20  # 2,000 papers: far above any real day; stops a server that ignores `p`


@dataclass(frozen=True, slots=True)
class Unchanged:
    """The source answered 304: the day is as last ingested."""

    source: str
    listing_date: date
    url: str


@dataclass(frozen=True, slots=True)
class FetchedPage:
    """A parsed day plus the validators to store with it (url -> validators, None = forget)."""

    page: Page
    validators: tuple[tuple[str, Validators | None], ...] = ()


@dataclass(frozen=True, slots=True)
class _Net:
    client: httpx.Client
    http: HttpConfig
    now: datetime
    sleep: Callable[[float], None]
    monotonic: Callable[[], float]

    def get(self, url: str, *, accept: str, validators: Validators | None) -> Fetched:
        return fetch_url(
            self.client, url, http=self.http, now=self.now, validators=validators,
            accept=accept, sleep=self.sleep, monotonic=self.monotonic,
        )  # fmt: skip


def api_url(base: str, day: date, page: int = 0) -> str:
    """The daily papers API URL of ``day`` (page ``page`` of ``API_PAGE_SIZE``)."""
    url = f"{base.rstrip('/')}/api/daily_papers?date={day.isoformat()}&limit={API_PAGE_SIZE}"
    return f"{url}&p={page}" if page else url


def html_url(base: str, day: date) -> str:
    """The daily papers HTML page of ``day``."""
    return f"{base.rstrip('/')}/papers/date/{day.isoformat()}"


def _ids(items: list[Any]) -> set[str]:
    found = set()
    for item in items:
        paper = item.get("paper") if isinstance(item, dict) else None
        raw = paper.get("id") if isinstance(paper, dict) else None
        if isinstance(raw, str):
            found.add(normalize_arxiv_id(raw) or raw)
    return found


def _fetch_api(name: str, day: date, net: _Net, stored: Validators) -> FetchedPage | Unchanged:
    first = api_url(net.http.hf_base_url, day)
    items: list[Any] = []
    for number in range(MAX_API_PAGES):
        url = api_url(net.http.hf_base_url, day, number)
        fetched = net.get(url, accept="application/json", validators=stored if not number else None)
        if fetched.not_modified:
            return Unchanged(source=name, listing_date=day, url=first)
        if fetched.media_type == "text/html":
            raise ParseError(url, "HTML served instead of JSON (Content-Type text/html)")
        text = decode_json_bytes(fetched.body, origin=url)
        batch = load_entries(text, origin=url, listing_date=day, lenient=False)
        if batch and _ids(batch) <= _ids(items):
            break  # the server ignored `p` and sent a page we have: the day is complete
        items.extend(batch)
        if len(batch) < API_PAGE_SIZE:
            break
    check_entry_dates(items, origin=first, listing_date=day)
    papers = parse_entries(items, origin=first)
    page = Page(name, first, day, papers, content_hash(papers))
    # conditional GET only for one-page days: a 304 on page 0 says nothing about page 1
    keep = fetched.validators if number == 0 else None
    return FetchedPage(page=page, validators=((first, keep),))


def _fetch_html(name: str, day: date, net: _Net, stored: Validators) -> FetchedPage | Unchanged:
    url = html_url(net.http.hf_base_url, day)
    fetched = net.get(url, accept="text/html", validators=stored)
    if fetched.not_modified:
        return Unchanged(source=name, listing_date=day, url=url)
    text = decode_html_bytes(fetched.body, header_charset=fetched.charset, origin=url)
    page = parse_daily_html(text, origin=url, source=name, listing_date=day)
    return FetchedPage(page=page, validators=((url, fetched.validators),))


def _read_files(source: SourceConfig, day: date, *, now: datetime, max_bytes: int) -> Page:
    folder = source.path
    if folder is None or not folder.is_dir():
        raise ParseError(str(folder), f"source {source.name}: folder not found")
    found = sorted(p for p in folder.iterdir() if day.isoformat() in p.name and is_page_name(p))
    if len(found) != 1:
        names = ", ".join(p.name for p in found) or "none"
        raise ParseError(str(folder), f"expected one saved page named with {day}, found {names}")
    text = read_page_file(found[0], max_bytes=max_bytes)
    return parse_saved_page(
        text, origin=str(found[0]), source=source.name, today=now.date(), listing_date=day
    )


def _first_url(source: SourceConfig, day: date, http: HttpConfig) -> str:
    if source.kind == "hf-api":
        return api_url(http.hf_base_url, day)
    return html_url(http.hf_base_url, day)


def fetch_source_date(
    source: SourceConfig,
    day: date,
    *,
    http: HttpConfig,
    client: httpx.Client,
    engine: Engine,
    now: datetime,
    sleep: Callable[[float], None] = time.sleep,
    monotonic: Callable[[], float] = time.monotonic,
    max_file_bytes: int = 20_000_000,
) -> FetchedPage | Unchanged:
    """Fetch and parse ``day`` from ``source``; nothing is stored (see :func:`ingest_source_date`).

    Raises FetchError (``deferred_until`` set when rate limited past the cap; the deferral is
    recorded and honoured by later calls) or ParseError.
    """
    url = _first_url(source, day, http)
    check_not_future(day, today=now.date(), origin=str(source.path) if source.path else url)
    if source.kind == "files":
        return FetchedPage(page=_read_files(source, day, now=now, max_bytes=max_file_bytes))
    with read_session(engine) as session:
        stored, deferred_until = load_fetch_state(session=session, url=url)
    if deferred_until is not None and deferred_until > now:
        raise FetchError(
            url,
            f"deferred until {deferred_until:%Y-%m-%d %H:%M:%S} UTC (rate limited earlier)",
            deferred_until=deferred_until,
        )
    net = _Net(client=client, http=http, now=now, sleep=sleep, monotonic=monotonic)
    fetch = _fetch_api if source.kind == "hf-api" else _fetch_html
    try:
        return fetch(source.name, day, net, stored)
    except FetchError as exc:
        if exc.deferred_until is not None:
            with write_session(engine) as session:
                save_deferral(session=session, url=url, until=exc.deferred_until)
        raise


def ingest_source_date(
    source: SourceConfig,
    day: date,
    *,
    http: HttpConfig,
    client: httpx.Client,
    engine: Engine,
    now: datetime,
    sleep: Callable[[float], None] = time.sleep,
    monotonic: Callable[[], float] = time.monotonic,
    max_file_bytes: int = 20_000_000,
    on_stored: Callable[[Session, PageReport], None] | None = None,
) -> PageReport:
    """Fetch ``day`` from ``source`` and store it (page and validators in one transaction).

    ``on_stored(session, report)`` runs inside that transaction (``run`` marks the edition).
    """
    result = fetch_source_date(
        source, day, http=http, client=client, engine=engine, now=now, sleep=sleep,
        monotonic=monotonic, max_file_bytes=max_file_bytes,
    )  # fmt: skip
    if isinstance(result, Unchanged):
        with read_session(engine) as session:
            count = stored_paper_count(session=session, source=source.name, listing_date=day)
        return PageReport(source.name, result.url, day, count, 0, 0, unchanged=True)

    def with_page(session: Session, report: PageReport) -> None:
        for url, validators in result.validators:
            save_validators(session=session, url=url, validators=validators, fetched_at=now)
        if on_stored is not None:
            on_stored(session, report)

    report = store_page(engine, result.page, now=now, before_commit=with_page)
    return report
