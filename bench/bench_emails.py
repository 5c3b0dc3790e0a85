"""Benchmark: email delivery over SMTP and email rendering, each next to a baseline in the same run.

Usage: PYTHONPATH=. python bench/bench_emails.py [--quick]

Delivery: the messages of one edition sent to a local aiosmtpd sink (its own process, the
``aiosmtpd.handlers.Sink`` handler, as a real relay would be) by paperboy's send loop
(``send_due``: real SQLite store, claims and outcomes committed per batch, bodies rendered once
per topic set, each message built and sent over one connection) vs a plain ``smtplib`` loop
sending the same bytes over one connection. A fresh outbox is planned before every round,
outside the timer; rounds alternate, and both paperboy's default ``[email] batch`` and
``batch = 1`` are shown.

Rendering: every subscriber's message for 100k subscribers (quick: 5k) over the shipped topics
and real papers: paperboy's ``render_bodies`` per topic set (views shared by the edition) and
``build_message`` per subscriber, vs jinja2 alone rendering the same templates
(templates/email/*) from the same contexts, precomputed outside the timer, and filling in each
subscriber's unsubscribe URL. Peak memory is the peak RSS (VmHWM) of a child process that does
only paperboy's rendering (so the baseline's and the delivery's memory do not count).
"""

from __future__ import annotations

import argparse
import random
import resource
import smtplib
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import jinja2
from sqlalchemy import Engine, text

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH.parent), str(BENCH)]

from feeds_store import real_papers  # noqa: E402
from figures import Figure, at_most, interleaved, table  # noqa: E402

from pipeline.addresses import unsubscribe_token  # noqa: E402
from pipeline.clock import fixed_clock  # noqa: E402
from pipeline.config import EmailConfig, parse_smtp_url  # noqa: E402
from pipeline.mail.render import (  # noqa: E402
    HTML_TEMPLATE,
    TEXT_TEMPLATE,
    UNSUBSCRIBE_PLACEHOLDER,
    Bodies,
    PaperViews,
    build_message,
    digest_context,
    make_envs,
    message_id,
    render_bodies,
    settings_from,
    unsubscribe_urls,
)
from pipeline.mail.send import EmailJob, message_bytes, prepare_edition, render_for, send_due  # noqa: E402
from pipeline.mail.transports import SmtpTransport  # noqa: E402
from pipeline.records import ALL_TOPICS, Edition, Page, ParsedPaper, StoredPaper  # noqa: E402
from pipeline.resources import resource_path  # noqa: E402
from pipeline.store.assignments import assign_pending  # noqa: E402
from pipeline.store.engine import init_db, make_engine, read_session, write_session  # noqa: E402
from pipeline.store.outbox import due_items  # noqa: E402
from pipeline.store.papers import upsert_page  # noqa: E402
from pipeline.store.subscribers import add_subscriber  # noqa: E402
from pipeline.topics import Topic, assign_topics, load_topics, topics_file  # noqa: E402

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
DAY = date(2026, 11, 23)
SECRET = b"bench-secret"
PAPERS_PER_DAY = 60
DEFAULT_BATCH = EmailConfig().batch  # 1
OPT_IN_BATCH = 20  # [email] batch = 20: what the 1.3x goal is met with
TOPICS: tuple[Topic, ...] = tuple(load_topics(topics_file(None)))


def _job() -> EmailJob:
    settings = settings_from(
        title="paperboy",
        sender="paperboy <digest@example.org>",
        site_url="https://digest.example.org",
        unsubscribe_address="",
    )
    return EmailJob(
        topics=TOPICS, envs=make_envs(resource_path("templates")), settings=settings, secret=SECRET
    )


def _day_papers() -> list[ParsedPaper]:
    """A day of real papers (real titles and abstracts), ranked 1..60."""
    found = sorted(real_papers(None), key=lambda p: p.title)[:PAPERS_PER_DAY]
    return [
        ParsedPaper(
            title=p.title, abstract=p.abstract, rank=n + 1, arxiv_id=p.arxiv_id, links=p.links
        )
        for n, p in enumerate(found)
    ]


def _topic_sets(count: int, rng: random.Random, *, amortised: bool) -> list[tuple[str, ...]]:
    """Each subscriber's topics: one topic or everything (``amortised``: few topic sets), else
    1-3 topics at random (hundreds of topic sets, about one in ten subscribers everything)."""
    slugs = [t.slug for t in TOPICS]
    sets: list[tuple[str, ...]] = []
    for _ in range(count):
        if rng.random() < 0.1:
            sets.append((ALL_TOPICS,))
        elif amortised:
            sets.append((rng.choice(slugs),))
        else:
            sets.append(tuple(sorted(rng.sample(slugs, rng.choice((1, 2, 3))))))
    return sets


# --- delivery -------------------------------------------------------------------------------


@contextmanager
def smtp_sink() -> Iterator[int]:
    """aiosmtpd's discarding Sink handler in a process of its own, on a free loopback port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    command = [sys.executable, "-m", "aiosmtpd", "-n", "-c", "aiosmtpd.handlers.Sink",
               "-l", f"127.0.0.1:{port}"]  # fmt: skip
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("the aiosmtpd sink did not start") from None
                time.sleep(0.05)
        yield port
    finally:
        server.terminate()
        server.wait(10)


def _seeded_store(folder: Path, count: int) -> Engine:
    """A SQLite store with one day of real papers (topics assigned) and ``count`` subscribers."""
    engine = make_engine(f"sqlite:///{folder}/bench.db")
    init_db(engine)
    papers = tuple(_day_papers())
    with write_session(engine) as session:
        upsert_page(session=session, page=Page("bench", "mem", DAY, papers, "h"), now=NOW)
        sets = _topic_sets(count, random.Random(2), amortised=True)
        for n, chosen in enumerate(sets):
            add_subscriber(session=session, email=f"reader{n}@example.com", topics=chosen,
                           secret=SECRET, now=NOW)  # fmt: skip
    assign_pending(engine, TOPICS)
    return engine


@dataclass
class _Outbox:
    """The planned edition the next paperboy round sends."""

    edition: Edition | None = None
    report: object = None


def _replan(engine: Engine, job: EmailJob, held: _Outbox) -> None:
    """A fresh outbox: every row pending again (outside the timer)."""
    with write_session(engine) as session:
        session.execute(text("DELETE FROM outbox"))
    held.edition, held.report = prepare_edition(engine=engine, day=DAY, job=job, now=NOW)


def _prepared_messages(engine: Engine, job: EmailJob) -> list[tuple[str, bytes]]:
    """(recipient, bytes) of every planned row: exactly what paperboy's loop sends."""
    edition, _report = prepare_edition(engine=engine, day=DAY, job=job, now=NOW)
    with read_session(engine) as session:
        items = due_items(session=session, edition=DAY, now=NOW)
    cache: dict[tuple[str, ...], Bodies] = {}
    out = []
    for item in items:
        chosen = tuple(sorted(item.topics))
        if chosen not in cache:
            cache[chosen] = render_for(edition, item.topics, job)
        out.append((item.email, message_bytes(item, cache[chosen], job, NOW)))
    return out


def _smtplib_loop(port: int, sender: str, messages: Sequence[tuple[str, bytes]]) -> None:
    conn = smtplib.SMTP("127.0.0.1", port, timeout=60)
    conn.ehlo()
    for recipient, data in messages:
        conn.sendmail(sender, [recipient], data)
    conn.quit()


def measure_delivery(count: int, rounds: int) -> tuple[dict[str, list[float]], int]:
    """Seconds per round: paperboy (opt-in batch 20, default batch 1) and the smtplib loop."""
    job = _job()
    held = _Outbox()
    with tempfile.TemporaryDirectory() as tmp, smtp_sink() as port:
        engine = _seeded_store(Path(tmp), count)
        messages = _prepared_messages(engine, job)
        target = parse_smtp_url(f"smtp://127.0.0.1:{port}")

        def paperboy(batch: int) -> None:
            assert held.edition is not None
            report = send_due(engine=engine, edition=held.edition, report=held.report,  # type: ignore[arg-type]
                              job=job, transport=SmtpTransport(target), clock=fixed_clock(NOW),
                              batch=batch)  # fmt: skip
            if report.outcomes.get("sent") != len(messages):
                raise RuntimeError(f"paperboy sent {report.outcomes}, expected {len(messages)}")

        runs = {
            f"paperboy, batch {OPT_IN_BATCH}": lambda: paperboy(OPT_IN_BATCH),
            f"paperboy, batch {DEFAULT_BATCH}": lambda: paperboy(DEFAULT_BATCH),
            "smtplib": lambda: _smtplib_loop(port, job.settings.sender_address, messages),
        }
        times = interleaved(runs, rounds, setup=lambda: _replan(engine, job, held))
        engine.dispose()
    return times, len(messages)


# --- rendering ------------------------------------------------------------------------------


def _edition(papers: Sequence[ParsedPaper]) -> Edition:
    stored = tuple(
        StoredPaper(key=f"k{n}", title=p.title, abstract=p.abstract, arxiv_id=p.arxiv_id,
                    links=p.links, first_seen=DAY, last_seen=DAY, times_seen=1,
                    topics=assign_topics(TOPICS, title=p.title, abstract=p.abstract))
        for n, p in enumerate(papers)
    )  # fmt: skip
    return Edition(day=DAY, new=stored[:45], recurring=stored[45:])


@dataclass(frozen=True)
class _Subscriber:
    id: int
    email: str
    topics: tuple[str, ...]
    token: str
    msgid: str


def _subscribers(count: int) -> list[_Subscriber]:
    """Subscribers with their tokens and Message-IDs (keys precomputed outside the timer)."""
    sets = _topic_sets(count, random.Random(1), amortised=False)
    return [
        _Subscriber(n, f"reader{n}@example.com", chosen,
                    unsubscribe_token(SECRET, f"{n:032x}"),
                    message_id(SECRET, subscriber_id=n, edition=DAY, domain="example.org"))
        for n, chosen in enumerate(sets, start=1)
    ]  # fmt: skip


def render_all(edition: Edition, people: Sequence[_Subscriber], job: EmailJob) -> int:
    """paperboy: bodies once per topic set (paper views shared), one message per subscriber."""
    titles = {t.slug: t.title for t in TOPICS}
    views = PaperViews()
    cache: dict[tuple[str, ...], Bodies] = {}
    total = 0
    for person in people:
        bodies = cache.get(person.topics)
        if bodies is None:
            bodies = render_bodies(edition.for_topics(person.topics), chosen=person.topics,
                                   titles=titles, envs=job.envs, settings=job.settings,
                                   views=views).for_sending()  # fmt: skip
            cache[person.topics] = bodies
        total += len(build_message(bodies, recipient=person.email, token=person.token,
                                   settings=job.settings, now=NOW, msgid=person.msgid))  # fmt: skip
    return total


def _contexts(edition: Edition, people: Sequence[_Subscriber], job: EmailJob) -> dict:  # type: ignore[type-arg]
    """Each topic set's template context, as paperboy builds it (outside the timer)."""
    titles = {t.slug: t.title for t in TOPICS}
    found = {}
    for person in people:
        if person.topics not in found:
            found[person.topics] = digest_context(
                edition.for_topics(person.topics), chosen=person.topics, titles=titles,
                settings=job.settings, max_papers=job.settings.max_papers,
            )  # fmt: skip
    return found


def jinja_alone(contexts: dict, people: Sequence[_Subscriber], job: EmailJob) -> int:  # type: ignore[type-arg]
    """The baseline: plain jinja2 environments over the same templates and contexts, once per
    topic set; each subscriber's unsubscribe URL filled in."""
    loader = jinja2.FileSystemLoader(str(resource_path("templates")))
    common = {"loader": loader, "trim_blocks": True, "lstrip_blocks": True,
              "keep_trailing_newline": True}  # fmt: skip
    html_env = jinja2.Environment(autoescape=True, **common)  # type: ignore[arg-type]
    text_env = jinja2.Environment(autoescape=False, **common)  # type: ignore[arg-type]
    html_t, text_t = html_env.get_template(HTML_TEMPLATE), text_env.get_template(TEXT_TEMPLATE)
    rendered: dict[tuple[str, ...], tuple[str, str]] = {}
    total = 0
    for person in people:
        pair = rendered.get(person.topics)
        if pair is None:
            context = contexts[person.topics]
            pair = rendered[person.topics] = (html_t.render(context), text_t.render(context))
        url = unsubscribe_urls(job.settings, person.token)[0] or ""
        total += len(pair[0].replace(UNSUBSCRIBE_PLACEHOLDER, url).encode())
        total += len(pair[1].replace(UNSUBSCRIBE_PLACEHOLDER, url).encode())
    return total


def _render_inputs(count: int) -> tuple[Edition, list[_Subscriber], EmailJob]:
    job = _job()
    return _edition(_day_papers()), _subscribers(count), job


def measure_render(count: int, rounds: int) -> tuple[dict[str, list[float]], int]:
    """Seconds per round: paperboy's rendering vs jinja2 alone, and the number of topic sets."""
    edition, people, job = _render_inputs(count)
    contexts = _contexts(edition, people, job)
    runs = {
        "paperboy": lambda: render_all(edition, people, _job()),  # fresh envs: nothing cached
        "jinja2": lambda: jinja_alone(contexts, people, job),
    }
    return interleaved(runs, rounds), len(contexts)


def render_peak_mib(count: int) -> tuple[float, float]:
    """(seconds, peak MiB) of a child process that only renders ``count`` messages."""
    command = [sys.executable, __file__, "--peak-child", str(count)]
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout.split()
    return float(out[0]), float(out[1])


def _peak_child(count: int) -> None:
    edition, people, job = _render_inputs(count)
    start = time.perf_counter()
    render_all(edition, people, job)
    elapsed = time.perf_counter() - start
    print(elapsed, _peak_rss_mib())


def _peak_rss_mib() -> float:
    """This process's peak RSS: VmHWM (ru_maxrss keeps the parent's peak across fork and exec
    on Linux, so a child started late would report the parent's)."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- figures --------------------------------------------------------------------------------


def figures(quick: bool, postgres: str | None) -> list[Figure]:
    """run_all's rows: delivery vs a plain smtplib loop (opt-in batch 20, default 1), rendering
    vs jinja2 alone, render time and peak memory. SQLite only (``postgres`` unused)."""
    del postgres
    rows: list[Figure] = []
    count, rounds = (1_000, 3) if quick else (5_000, 5)
    times, sent = measure_delivery(count, rounds)
    base = statistics.median(times["smtplib"])
    for batch in (OPT_IN_BATCH, DEFAULT_BATCH):
        ours = statistics.median(times[f"paperboy, batch {batch}"])
        label = f"emails delivered over SMTP, {sent:,} messages, batch {batch}"
        paperboy = f"{ours:.2f} s ({sent / ours:,.0f} msg/s)"
        baseline = f"{base:.2f} s ({sent / base:,.0f} msg/s) smtplib loop"
        if batch == OPT_IN_BATCH:
            rows.append(at_most(label + " (opt-in)", paperboy, baseline, ours / base, 1.3))
        else:  # at most one uncertain message per crash: two commits a message
            rows.append(Figure(label + " (default)", paperboy, baseline, ours / base, "", None))
    subscribers = 5_000 if quick else 100_000
    times, topic_sets = measure_render(subscribers, 3 if quick else 5)
    ours, base = statistics.median(times["paperboy"]), statistics.median(times["jinja2"])
    rows.append(Figure(f"emails rendered, {subscribers:,} subscribers, {topic_sets} topic sets",
                       f"{ours:.1f} s ({subscribers / ours:,.0f} msg/s)",
                       f"{base:.1f} s ({subscribers / base:,.0f} msg/s) jinja2 alone",
                       ours / base, "", None))  # fmt: skip
    seconds, peak = render_peak_mib(100_000)
    rows.append(Figure("100,000 subscribers' emails rendered (own process)", f"{seconds:.1f} s",
                       "", None, "< 60 s", seconds < 60))  # fmt: skip
    rows.append(Figure("peak memory rendering 100,000 (VmHWM)", f"{peak:.0f} MiB", "", None,
                       "< 300 MB", peak * 1024 * 1024 < 300e6))  # fmt: skip
    return rows


def bench_pure(count: int) -> dict[str, float]:
    """paperboy's rendering of ``count`` messages: messages/s, topic sets, peak MiB (old API)."""
    seconds, peak = render_peak_mib(count)
    sets = len({person.topics for person in _subscribers(count)})
    return {"messages_per_s": count / seconds, "topic_sets": sets, "peak_mib": peak}


def main() -> None:
    """Print the figures (docs/benchmarks.md quotes them)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller sizes (under 2 minutes)")
    parser.add_argument("--peak-child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.peak_child:
        _peak_child(args.peak_child)
        return
    print(table(figures(args.quick, None)))


if __name__ == "__main__":
    main()
