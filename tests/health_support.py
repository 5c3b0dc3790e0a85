"""Helpers for health tests: a recorded-week API that can break, runs on a movable clock."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine

from pipeline.app import Paperboy
from pipeline.config import Config
from pipeline.run import RunReport
from pipeline.store.engine import write_session
from pipeline.store.subscribers import add_subscriber
from pipeline.topics import load_topics, topics_file
from tests.conftest import DATA, make_config
from tests.hf_support import FakeClock, mock_client
from tests.web_support import Clock

WEEK = {
    date.fromisoformat(f.stem): json.loads(f.read_text(encoding="utf-8"))
    for f in sorted((DATA / "hf" / "week").glob("*.json"))
}
TOPICS = load_topics(topics_file(None))
SITE = "https://papers.example.org/"
PEOPLE = ("ada@example.org", "bob@example.org")


def at(day: str, time: str = "07:30") -> datetime:
    """``2026-08-20`` at ``07:30`` UTC."""
    return datetime.fromisoformat(f"{day}T{time}:00").replace(tzinfo=UTC)


class Api:
    """The recorded week by ``?date=`` (weekends empty); ``down`` answers 503 (with
    ``reason``), ``empty`` lists nothing for those dates."""

    def __init__(self) -> None:
        self.down = False
        self.reason = "Service Unavailable"
        self.empty: set[date] = set()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            return httpx.Response(
                503, text="down", extensions={"reason_phrase": self.reason.encode("latin-1")}
            )
        day = date.fromisoformat(request.url.params["date"])
        if request.url.params.get("p", "0") != "0" or day in self.empty:
            return httpx.Response(200, json=[])
        return httpx.Response(200, json=WEEK.get(day, []))


def health_config(tmp_path: Path, engine: Engine, **sections: dict[str, Any]) -> Config:
    """The test store's URL, a 3-day catch-up window, one retry, https site."""
    values: dict[str, dict[str, Any]] = {
        "store": {"database_url": engine.url.render_as_string(hide_password=False)},
        "ingest": {"catch_up_max_days": 3},
        "http": {"retries": 1},
        "output": {"site_url": SITE},
        "email": {"sender": "Lab papers <digest@example.org>"},
    }
    for name, table in sections.items():
        values[name] = values.get(name, {}) | table
    return make_config(tmp_path, **values)


def installation(cfg: Config, engine: Engine, when: datetime) -> tuple[Paperboy, Clock]:
    """A Paperboy on ``engine`` whose clock the test moves, with two subscribers of a week
    before ``when`` (a subscriber's first digest is the first edition settled after that)."""
    clock = Clock(when)
    pb = Paperboy(cfg, engine=engine, clock=clock, topics=TOPICS)
    with write_session(engine) as session:
        for address in PEOPLE:
            add_subscriber(session=session, email=address, topics=[t.slug for t in TOPICS],
                           secret=b"s" * 32, now=when - timedelta(days=7))  # fmt: skip
    return pb, clock


def run_at(pb: Paperboy, clock: Clock, api: Api, when: datetime) -> RunReport:
    """``paperboy run`` (under the lock) at ``when`` against ``api``; retries do not sleep."""
    clock.at = when
    with mock_client(api, pb.config.http) as client:
        return pb.run(client=client, sleep=FakeClock().sleep)
