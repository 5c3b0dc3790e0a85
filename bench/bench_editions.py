"""Benchmark: what settled editions cost a run (issue 13 part 1).

Usage: python bench/bench_editions.py [DAYS] [SUBSCRIBERS]   (defaults 365, 10000)

A SQLite store with DAYS daily lists of 50 papers, every earlier day's edition frozen already
(each listing in one edition), and SUBSCRIBERS daily subscribers with 1-3 of 20 topics. For a
new settled day it times, in the interleaved order baseline/new, three times each:

- baseline: what the previous version did per edition: read the day's edition
  (``select_edition``) and plan its outbox rows (one INSERT ... ON CONFLICT DO NOTHING batch);
- new: ``find_due`` (which editions are due) plus ``plan_edition`` (freeze the day, look for
  late listings over every frozen day, plan the same rows with their topics), in one
  transaction, rolled back after timing so each round does the same work.
"""

from __future__ import annotations

import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import text

from pipeline.mail.due import find_due
from pipeline.mail.plan import plan_edition, recipients
from pipeline.mail.render import make_envs, settings_from
from pipeline.mail.send import EmailJob
from pipeline.mail.settle import Timing
from pipeline.records import EditionRef, Page, ParsedPaper
from pipeline.resources import resource_path
from pipeline.store.editions import select_edition
from pipeline.store.engine import init_db, make_engine, read_session, write_session
from pipeline.store.frozen_editions import freeze_edition
from pipeline.store.outbox import plan_outbox
from pipeline.store.papers import upsert_page
from pipeline.store.subscribers import add_subscriber, select_subscribers
from pipeline.topics import Rule, Topic, phrase_pattern

FIRST = date(2025, 11, 23)
SECRET = b"bench-secret"
TOPICS = tuple(
    Topic(
        f"topic-{i:02d}", f"Topic {i}", "", (Rule(f"kw{i:02d}", phrase_pattern(f"kw{i:02d}")),), ()
    )
    for i in range(20)
)


def _job() -> EmailJob:
    settings = settings_from(
        title="bench", sender="b <b@example.org>", site_url="", unsubscribe_address=""
    )
    return EmailJob(
        topics=TOPICS, envs=make_envs(resource_path("templates")), settings=settings, secret=SECRET
    )


def _page(day: date, rng: random.Random) -> Page:
    papers = tuple(
        ParsedPaper(
            title=f"Paper {day} {n} kw{rng.randrange(20):02d}",
            abstract=f"about kw{rng.randrange(20):02d}",
            rank=n + 1,
            arxiv_id=f"{day:%y%m}.{day.day:02d}{n:03d}",
        )
        for n in range(50)
    )
    return Page("bench", f"mem:{day}", day, papers, f"h{day}")


def build(folder: Path, days: int, subscribers: int) -> tuple[object, date]:
    """The store: ``days`` lists, all but the last frozen; the subscribers."""
    rng = random.Random(1)
    engine = make_engine(f"sqlite:///{folder / 'bench.db'}")
    init_db(engine)
    now = datetime.combine(FIRST, datetime.min.time(), tzinfo=UTC)
    with write_session(engine) as session:
        for n in range(subscribers):
            chosen = sorted({f"topic-{rng.randrange(20):02d}" for _ in range(rng.randint(1, 3))})
            add_subscriber(session=session, email=f"r{n}@example.org", topics=chosen,
                           secret=SECRET, now=now)  # fmt: skip
    last = FIRST + timedelta(days=days - 1)
    for k in range(days):
        day = FIRST + timedelta(days=k)
        with write_session(engine) as session:
            upsert_page(session=session, page=_page(day, rng), now=now)
            if day < last:
                freeze_edition(session=session, ref=EditionRef.daily(day), topics=TOPICS, now=now)
    return engine, last


def _rolled_back(engine: object, work: object) -> float:
    """Time ``work(session)`` in a write transaction, then roll it back."""
    from sqlmodel import Session

    with Session(engine) as session:  # type: ignore[arg-type]
        session.begin()
        start = time.perf_counter()
        work(session)  # type: ignore[operator]
        took = time.perf_counter() - start
        session.rollback()
    return took


def main(days: int, subscribers: int) -> None:
    job = _job()
    with tempfile.TemporaryDirectory() as tmp:
        engine, day = build(Path(tmp), days, subscribers)
        now = datetime.combine(
            day + timedelta(days=1), datetime.min.time(), tzinfo=UTC
        ) + timedelta(hours=7)
        timing = Timing(settle=timedelta(hours=6), window_days=14)

        def baseline(session: object) -> None:
            edition = select_edition(session=session, day=day, topics=TOPICS)  # type: ignore[arg-type]
            subs = select_subscribers(session=session, status="active")  # type: ignore[arg-type]
            rows = recipients(edition, subs, job)
            plan_outbox(session=session, edition=day, rows=rows, now=now)  # type: ignore[arg-type]

        def new() -> float:
            start = time.perf_counter()
            due = find_due(engine, now=now, timing=timing)  # type: ignore[arg-type]
            assert due.to_freeze == (EditionRef.daily(day),), due
            plan_edition(engine=engine, ref=EditionRef.daily(day), job=job, now=now, replan=False)  # type: ignore[arg-type]
            took = time.perf_counter() - start
            with engine.begin() as conn:  # type: ignore[attr-defined]
                conn.execute(text("DELETE FROM outbox"))
                edition = "(SELECT id FROM mail_edition WHERE day = :d)"
                conn.execute(
                    text(f"DELETE FROM mail_edition_paper WHERE edition_id = {edition}"), {"d": day}
                )
                conn.execute(text("DELETE FROM mail_edition WHERE day = :d"), {"d": day})
            return took

        old_times, new_times = [], []
        for _round in range(3):
            old_times.append(_rolled_back(engine, baseline))
            new_times.append(new())
        with read_session(engine) as session:  # type: ignore[arg-type]
            rows = session.execute(text("SELECT count(*) FROM mail_edition_paper")).scalar_one()
        engine.dispose()  # type: ignore[attr-defined]
    old, fresh = statistics.median(old_times), statistics.median(new_times)
    print(f"store: {days} days x 50 papers, {rows} frozen listings, {subscribers} subscribers")
    print(f"baseline (select edition + plan rows): {old * 1000:.0f} ms (median of 3)")
    print(f"new (find_due + freeze + late scan + plan rows): {fresh * 1000:.0f} ms (median of 3)")
    print(f"ratio new/baseline: {fresh / old:.2f}x")


if __name__ == "__main__":
    main(
        int(sys.argv[1]) if len(sys.argv) > 1 else 365,
        int(sys.argv[2]) if len(sys.argv) > 2 else 10_000,
    )
