"""Ingest saved pages: read, parse, store, report. Orchestration of the ingest stage.

Each page is parsed in memory first, then stored in its own short write transaction, so a bad
page never leaves half its papers behind and never stops the others. Pages are stored in
listing-date order, so each report's new/recurring counts read chronologically (the final
store does not depend on the order).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.config import DEFAULT_SOURCE
from pipeline.errors import PipelineError, StoreError
from pipeline.ingest.files import expand_paths, read_page_file
from pipeline.ingest.parse import parse_saved_page
from pipeline.records import Failure, IngestReport, Page, PageReport
from pipeline.store.papers import store_page

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlmodel import Session


def parse_page_file(
    path: Path, *, source: str, now: datetime, listing_date: date | None, max_bytes: int
) -> Page:
    """Read and parse one saved page."""
    text = read_page_file(path, max_bytes=max_bytes)
    return parse_saved_page(
        text, origin=str(path), source=source, today=now.date(), listing_date=listing_date
    )


def store_pages(
    pages: Iterable[Page],
    *,
    engine: Engine,
    now: datetime,
    on_page: Callable[[PageReport], None] | None = None,
    on_stored: Callable[[Session, PageReport], None] | None = None,
) -> tuple[list[PageReport], list[Failure]]:
    """Store pages in listing-date order, one transaction each (``on_stored`` runs inside)."""
    reports: list[PageReport] = []
    failures: list[Failure] = []
    for page in sorted(pages, key=lambda p: (p.listing_date, p.source, p.origin)):
        try:
            report = store_page(engine, page, now=now, before_commit=on_stored)
        except StoreError as exc:
            failures.append(Failure(page.origin, str(exc).removeprefix(f"{page.origin}: ")))
            continue
        reports.append(report)
        if on_page:
            on_page(report)
    return reports, failures


def ingest_files(
    paths: Iterable[Path],
    *,
    engine: Engine,
    now: datetime,
    listing_date: date | None = None,
    source: str = DEFAULT_SOURCE,
    max_bytes: int = 20_000_000,
    on_page: Callable[[PageReport], None] | None = None,
    on_failure: Callable[[Failure], None] | None = None,
    on_stored: Callable[[Session, PageReport], None] | None = None,
    resolve: Callable[[Page], Page] | None = None,
) -> IngestReport:
    """Ingest saved page files (folders are searched for page files); ``resolve`` may add
    arXiv ids to title-only papers before they are stored (:mod:`pipeline.ingest.resolve`)."""
    pages: list[Page] = []
    failures: list[Failure] = []
    for path in expand_paths(paths):
        try:
            page = parse_page_file(
                path, source=source, now=now, listing_date=listing_date, max_bytes=max_bytes
            )
            pages.append(resolve(page) if resolve is not None else page)
        except PipelineError as exc:
            failure = Failure(str(path), getattr(exc, "detail", str(exc)))
            failures.append(failure)
            if on_failure:
                on_failure(failure)
    reports, store_failures = store_pages(
        pages, engine=engine, now=now, on_page=on_page, on_stored=on_stored
    )
    for failure in store_failures:
        if on_failure:
            on_failure(failure)
    return IngestReport(pages=tuple(reports), failures=tuple(failures + store_failures))
