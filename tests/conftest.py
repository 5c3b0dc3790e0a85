"""Shared fixtures: a real SQLite store in tmp_path, a fixed clock, page builders."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine

from pipeline.config import Config, config_from_mapping
from pipeline.db import init_db, make_engine

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "samples"
DATA = Path(__file__).resolve().parent / "data"
NOW = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)


@pytest.fixture
def now() -> datetime:
    """The fixed 'now' every pure call gets (2026-11-23 06:00 UTC)."""
    return NOW


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    """A real SQLite file store with the schema created."""
    eng = make_engine(f"sqlite:///{tmp_path / 'paperboy.db'}")
    init_db(eng)
    yield eng
    eng.dispose()


def make_config(tmp_path: Path, **sections: dict[str, object]) -> Config:
    """A Config rooted at tmp_path (data/ and out/ inside it), with section overrides."""
    return config_from_mapping(dict(sections), base_dir=tmp_path, env={})


def text_page(listing: str, papers: list[tuple[str, str]], *, header: str | None = None) -> str:
    """A saved text page in the samples' layout: header, date line, title/abstract blocks."""
    head = (
        header
        if header is not None
        else (
            "new\n\nGet trending papers in your email inbox!\n\nSubscribe\n\n"
            "byAK and the research community\n\n"
        )
    )
    body = "".join(f"{title}\n\n{abstract}\n\n" for title, abstract in papers)
    return f"{head}{listing}\n\n{body}"


def as_date(text: str) -> date:
    return date.fromisoformat(text)
