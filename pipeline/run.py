"""The daily job: ingest every source, then render and deliver. The only orchestrator.

``run_once`` calls the stages in a fixed order (ingest -> feeds -> emails); a failing source is
recorded in the report and the rest of the run goes on, so what succeeded is still delivered.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine

from pipeline.config import Config
from pipeline.ingest import ingest_files
from pipeline.records import Failure, IngestReport, PageReport

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunReport:
    """What one run did, stage by stage."""

    pages: tuple[PageReport, ...] = ()
    failures: tuple[Failure, ...] = ()
    notes: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        """True when no source or stage failed."""
        return not self.failures


def run_once(
    cfg: Config,
    *,
    engine: Engine,
    now: datetime,
    extra_pages: Sequence[Path] = (),
    on_page: Callable[[PageReport], None] | None = None,
    on_failure: Callable[[Failure], None] | None = None,
) -> RunReport:
    """Run the whole daily job once."""
    pages: list[PageReport] = []
    failures: list[Failure] = []
    notes: list[str] = []
    for source in cfg.sources:
        if not source.enabled:
            continue
        if source.kind == "files" and source.path is not None:
            if not source.path.exists():
                notes.append(f"source {source.name}: folder {source.path} does not exist, skipped")
                continue
            report = ingest_files(
                [source.path],
                engine=engine,
                now=now,
                source=source.name,
                max_bytes=cfg.ingest.max_page_bytes,
                on_page=on_page,
                on_failure=on_failure,
            )
            _collect(report, pages, failures)
    if extra_pages:
        report = ingest_files(
            extra_pages,
            engine=engine,
            now=now,
            max_bytes=cfg.ingest.max_page_bytes,
            on_page=on_page,
            on_failure=on_failure,
        )
        _collect(report, pages, failures)
    return RunReport(pages=tuple(pages), failures=tuple(failures), notes=tuple(notes))


def _collect(report: IngestReport, pages: list[PageReport], failures: list[Failure]) -> None:
    pages.extend(report.pages)
    failures.extend(report.failures)
