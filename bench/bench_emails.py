"""Benchmark: email digests for many subscribers over 20 topics.

Usage: python bench/bench_emails.py [SUBSCRIBERS] [OUTBOX_ROWS]   (defaults 100000, 10000)

Part 1 (pure): render bodies once per distinct topic set, then build and serialise one
personalised message per subscriber; prints messages/s and peak RSS.
Part 2 (outbox): the real store path on a SQLite file (plan rows, claim, "send" to a transport
that discards, mark sent: two commits per message); prints messages/s.
"""

from __future__ import annotations

import random
import resource
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.clock import fixed_clock
from pipeline.mail.render import build_message, make_envs, message_id, render_bodies, settings_from
from pipeline.mail.send import EmailJob, prepare_edition, send_due
from pipeline.records import (
    Edition,
    OutboxItem,
    Outcome,
    Page,
    ParsedPaper,
    StoredPaper,
    SubscriberRecord,
)
from pipeline.resources import resource_path
from pipeline.store.engine import init_db, make_engine, write_session
from pipeline.store.papers import upsert_page
from pipeline.store.subscribers import add_subscriber
from pipeline.topics import Rule, Topic, phrase_pattern

NOW = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
DAY = date(2026, 11, 23)
SECRET = b"bench-secret"
TOPICS = tuple(
    Topic(
        slug=f"topic-{i:02d}",
        title=f"Topic {i}",
        description="",
        include=(Rule(f"keyword{i:02d}", phrase_pattern(f"keyword{i:02d}")),),
        exclude=(),
    )
    for i in range(20)
)
ABSTRACT = "We study something important and report results on many benchmarks. " * 8


def _papers(rng: random.Random) -> list[tuple[str, str]]:
    """60 papers, each matching 1-2 topics by title keyword."""
    out = []
    for n in range(60):
        keys = " ".join(f"keyword{k:02d}" for k in rng.sample(range(20), rng.choice((1, 2))))
        out.append((f"Paper {n}: a study of {keys}", ABSTRACT))
    return out


def _subscribers(count: int, rng: random.Random) -> list[SubscriberRecord]:
    slugs = [t.slug for t in TOPICS]
    return [
        SubscriberRecord(
            i + 1,
            f"reader{i}@example.com",
            tuple(sorted(rng.sample(slugs, rng.choice((1, 2, 3))))),
            "active",
            "n" * 32,
        )
        for i in range(count)
    ]


def _job(site_url: str = "https://digest.example.org") -> EmailJob:
    settings = settings_from(
        title="paperboy",
        sender="paperboy <digest@example.org>",
        site_url=site_url,
        unsubscribe_address="",
    )
    return EmailJob(
        topics=TOPICS, envs=make_envs(resource_path("templates")), settings=settings, secret=SECRET
    )


def bench_pure(count: int) -> dict[str, float]:
    """Render per topic set, personalise per subscriber; print and return the figures."""
    rng = random.Random(1)
    from pipeline.topics import assign_topics

    papers = tuple(
        StoredPaper(
            key=f"k{n}",
            title=t,
            abstract=a,
            arxiv_id=f"2311.{n:05d}",
            links=(),
            first_seen=DAY,
            last_seen=DAY,
            times_seen=1,
            topics=assign_topics(TOPICS, title=t, abstract=a),
        )
        for n, (t, a) in enumerate(_papers(rng))
    )
    edition = Edition(day=DAY, new=papers[:40], recurring=papers[40:])
    subscribers = _subscribers(count, rng)
    job = _job()
    titles = {t.slug: t.title for t in TOPICS}
    cache = {}
    largest = total_bytes = 0
    start = time.perf_counter()
    for sub in subscribers:
        bodies = cache.get(sub.topics)
        if bodies is None:
            bodies = render_bodies(
                edition.for_topics(sub.topics),
                chosen=sub.topics,
                titles=titles,
                envs=job.envs,
                settings=job.settings,
            )
            cache[sub.topics] = bodies
            largest = max(largest, len(bodies.html.encode()))
        msgid = message_id(SECRET, subscriber_id=sub.id, edition=DAY, domain="example.org")
        data = build_message(
            bodies, recipient=sub.email, token="t" * 32, settings=job.settings, now=NOW, msgid=msgid
        )
        total_bytes += len(data)
    elapsed = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"pure: {count} messages, {len(cache)} topic sets, {elapsed:.1f} s, "
        f"{count / elapsed:.0f} messages/s, avg {total_bytes / count / 1024:.1f} KiB, "
        f"largest HTML {largest / 1024:.1f} KiB, peak RSS {peak:.0f} MiB"
    )
    return {"messages_per_s": count / elapsed, "topic_sets": len(cache), "peak_mib": peak}


class _Discard:
    def open(self) -> None: ...
    def close(self) -> None: ...
    def send(self, item: OutboxItem, sender: str, data: bytes) -> Outcome:  # noqa: ARG002
        return Outcome("sent", 250, "discarded")


def bench_outbox(count: int) -> None:
    """The store path: plan, claim, send (discard), mark sent."""
    rng = random.Random(2)
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/bench.db")
        init_db(engine)
        parsed = tuple(
            ParsedPaper(title=t, abstract=a, rank=i + 1, arxiv_id=f"2311.{i:05d}")
            for i, (t, a) in enumerate(_papers(rng))
        )
        with write_session(engine) as session:
            upsert_page(session=session, page=Page("bench", "mem", DAY, parsed, "h"), now=NOW)
            for sub in _subscribers(count, rng):
                add_subscriber(
                    session=session, email=sub.email, topics=sub.topics, secret=SECRET, now=NOW
                )
        job = _job()
        start = time.perf_counter()
        edition, report = prepare_edition(engine=engine, day=DAY, job=job, now=NOW)
        planned = time.perf_counter()
        report = send_due(
            engine=engine, edition=edition, report=report, job=job, transport=_Discard(),
            clock=fixed_clock(NOW),
        )  # fmt: skip
        end = time.perf_counter()
        engine.dispose()
    print(
        f"outbox: {report.planned} rows planned in {planned - start:.1f} s; "
        f"{report.outcomes.get('sent', 0)} sent in {end - planned:.1f} s "
        f"({report.outcomes.get('sent', 0) / (end - planned):.0f} messages/s, "
        f"{report.topic_sets} topic sets)"
    )


if __name__ == "__main__":
    bench_pure(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
    bench_outbox(int(sys.argv[2]) if len(sys.argv) > 2 else 10_000)
