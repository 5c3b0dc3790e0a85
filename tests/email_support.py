"""Helpers for email tests: a seeded store, a scriptable aiosmtpd sink, a job builder."""

from __future__ import annotations

import hashlib
import socket
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from sqlalchemy import Engine

from pipeline.mail.render import make_envs, settings_from
from pipeline.mail.send import EmailJob
from pipeline.records import Page, ParsedPaper
from pipeline.resources import resource_path
from pipeline.store.assignments import assign_pending
from pipeline.store.engine import write_session
from pipeline.store.papers import upsert_page
from pipeline.store.subscribers import add_subscriber
from pipeline.topics import load_topics, topics_file

DAY1 = date(2026, 11, 20)
DAY2 = date(2026, 11, 23)
SECRET = b"test-secret"

PAPERS_DAY1 = [
    (
        "Efficient Streaming Language Models with Attention Sinks",
        "long context KV cache for streaming.",
        "2309.17453",
    ),
    (
        "Dense Passage Retrieval Revisited",
        "dense retrieval and reranking for RAG pipelines.",
        "2401.00001",
    ),
]
PAPERS_DAY2 = [
    (
        "LongLoRA: Long-Context Fine-Tuning",
        "Extends the context window of LLMs cheaply. Code: https://github.com/x/longlora",
        "2309.12307",
    ),
    (
        "Retrieval-Augmented Generation for Multilingual QA",
        "RAG across languages with a multilingual retriever.",
        "2402.00002",
    ),
    ("Mixture-of-Experts Routing at Scale", "Sparse MoE expert models and routing.", "2403.00003"),
    (
        "Efficient Streaming Language Models with Attention Sinks",
        "long context KV cache for streaming.",
        "2309.17453",
    ),
]


def page(day: date, papers: Sequence[tuple[str, str, str | None]], source: str = "test") -> Page:
    parsed = tuple(
        ParsedPaper(
            title=t,
            abstract=a,
            rank=i + 1,
            arxiv_id=x,
            links=tuple(w for w in a.split() if w.startswith("https://")),
        )
        for i, (t, a, x) in enumerate(papers)
    )
    digest = hashlib.sha256(repr(parsed).encode()).hexdigest()
    return Page(
        source=source, origin=f"mem:{day}", listing_date=day, papers=parsed, content_hash=digest
    )


def seed(engine: Engine, now: datetime) -> None:
    """Two editions: DAY1 and DAY2 (one paper recurs), topics assigned (as an ingest does)."""
    for day, papers in ((DAY1, PAPERS_DAY1), (DAY2, PAPERS_DAY2)):
        with write_session(engine) as session:
            upsert_page(session=session, page=page(day, papers), now=now)
    assign_pending(engine, load_topics(topics_file(None)))


def subscribe(engine: Engine, now: datetime, people: dict[str, list[str]]) -> None:
    with write_session(engine) as session:
        for email, topics in people.items():
            add_subscriber(session=session, email=email, topics=topics, secret=SECRET, now=now)


def make_job(*, site_url: str = "https://digest.example.org", **overrides: Any) -> EmailJob:
    settings = settings_from(
        title="paperboy",
        sender="paperboy <digest@example.org>",
        site_url=site_url,
        unsubscribe_address="",
        max_papers=overrides.pop("max_papers", 25),
        abstract_chars=overrides.pop("abstract_chars", 320),
    )
    values: dict[str, Any] = {
        "topics": load_topics(topics_file(None)),
        "envs": make_envs(resource_path("templates")),
        "settings": settings,
        "secret": SECRET,
        "retry_after": timedelta(minutes=30),
    }
    values.update(overrides)
    return EmailJob(**values)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Sink:
    """aiosmtpd handler with a script: refuse some RCPTs, fail DATA, drop connections."""

    rcpt_replies: dict[str, str] = field(default_factory=dict)  # address -> reply
    data_replies: dict[int, str] = field(default_factory=dict)  # message number -> reply
    drop_after: int | None = None  # close after replying 250 to this many messages
    drop_after_storing: set[int] = field(default_factory=set)  # store #k, then close silently
    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    data_count: int = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: ARG002 (aiosmtpd hook signature)
        if address in self.rcpt_replies:
            return self.rcpt_replies[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: ARG002 (aiosmtpd hook signature)
        with self.lock:
            self.data_count += 1
            number = self.data_count
        if number in self.data_replies:
            return self.data_replies[number]
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        if number in self.drop_after_storing:
            server.transport.close()
            return "250 never sent"
        if self.drop_after is not None and len(self.messages) >= self.drop_after:
            self.drop_after = None
            server.loop.call_soon(server.transport.close)
        return "250 OK queued"

    def message_ids(self) -> list[str]:
        return [str(m["Message-ID"]) for m in self.messages]


@contextmanager
def smtp_sink(sink: Sink, **kwargs: Any) -> Iterator[int]:
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


def parse(path: Path) -> EmailMessage:
    return message_from_bytes(path.read_bytes(), policy=policy.default)  # type: ignore[return-value]
