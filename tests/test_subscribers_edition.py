"""Subscribers (addresses, tokens, CSV) and edition queries (new / back again, topics)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from pipeline.addresses import (
    AddressError,
    normalize_email,
    parse_subscriber_csv,
    token_hash,
    unsubscribe_token,
)
from pipeline.clock import fixed_clock
from pipeline.config import SmtpTarget
from pipeline.errors import ConfigError, DeliveryError
from pipeline.mail.send import prepare_edition, send_due
from pipeline.mail.transports import EmlTransport, SmtpTransport
from pipeline.store.editions import select_edition
from pipeline.store.engine import read_session, write_session
from pipeline.store.papers import last_listing_date
from pipeline.store.subscribers import add_subscriber, unsubscribe_by_token
from pipeline.store.tables import OutboxMessage, Subscriber
from tests.conftest import make_config
from tests.email_support import DAY1, DAY2, SECRET, free_port, make_job, seed, subscribe


@pytest.mark.parametrize(
    ("raw", "address", "key"),
    [
        ("  Ann.Lee+news@Example.ORG\n", "Ann.Lee+news@example.org", "ann.lee+news@example.org"),
        ("bob@bücher.de", "bob@xn--bcher-kva.de", "bob@xn--bcher-kva.de"),
    ],
)
def test_normalize_email_strips_and_lowercases_domain(raw, address, key):
    assert normalize_email(raw) == (address, key)


@pytest.mark.parametrize(
    "raw",
    [
        "no-at-sign",
        "a@b@c.org",
        "a b@example.org",
        "Eve <eve@example.org>",
        "eve@example.org\r\nBcc: x@y.org",
        '"quoted"@example.org',
        "eve@localhost",
        "eve@-bad-.org",
        ".eve@example.org",
        "x" * 250 + "@example.org",
        # RFC 2047 encoded words: the email package decodes them inside addresses (issue 15.2)
        "=?UTF-8?Q?a=0A?=@example.org",
        "=?utf-8?b?Cg==?=@example.org",
        "ann=?UTF-8?Q??=@example.org",
    ],
)
def test_normalize_email_rejects_unsafe_addresses(raw):
    with pytest.raises(AddressError):
        normalize_email(raw)


def test_subscriber_token_is_stored_only_as_hash(engine, now):
    with write_session(engine) as session:
        record, _ = add_subscriber(
            session=session,
            email="ann@example.org",
            topics=["long-context"],
            secret=SECRET,
            now=now,
        )
    token = unsubscribe_token(SECRET, record.token_nonce)
    assert len(token) == 32 and set(token) <= set("0123456789abcdef")  # 128 bits, hex
    with read_session(engine) as session:
        row = session.exec(select(Subscriber)).one()
        assert row.token_hash == token_hash(token) and token not in repr(row.model_dump())
    with write_session(engine) as session:
        assert not unsubscribe_by_token(session=session, token="0" * 32, now=now)
        assert unsubscribe_by_token(session=session, token=token, now=now)
    with read_session(engine) as session:
        assert session.exec(select(Subscriber.status)).one() == "unsubscribed"


def test_parse_subscriber_csv_needs_columns():
    rows = parse_subscriber_csv('Email,Topics\na@b.org,"x, y"\nc@d.org,z;w\n')
    assert rows == [(2, "a@b.org", ["x", "y"], None), (3, "c@d.org", ["z", "w"], None)]
    with_frequency = parse_subscriber_csv("email,topics,Frequency\na@b.org,x, weekly \n")
    assert with_frequency == [(2, "a@b.org", ["x"], "weekly")]
    with pytest.raises(ConfigError, match="'email' and 'topics'"):
        parse_subscriber_csv("address,list\na@b.org,x\n")


def test_select_edition_splits_new_and_recurring_with_topics(engine, now):
    seed(engine, now)
    job = make_job()
    with read_session(engine) as session:
        assert last_listing_date(session=session) == DAY2
        edition = select_edition(session=session, day=DAY2, topics=job.topics)
        first = select_edition(session=session, day=DAY1, topics=job.topics)
    assert [p.title[:20] for p in edition.new] == [
        "LongLoRA: Long-Conte",
        "Retrieval-Augmented ",
        "Mixture-of-Experts R",
    ]
    [back] = edition.recurring
    assert back.title.startswith("Efficient Streaming") and back.times_seen == 2
    assert back.first_seen == DAY1 and "long-context" in back.topics
    assert [p.times_seen for p in first.new] == [1, 1]  # history counted up to that day only
    both = edition.for_topics(["long-context", "retrieval-rag", "multilingual"])
    keys = [p.key for p in both.new + both.recurring]
    assert len(keys) == len(set(keys)) == 3  # the multilingual RAG paper once


def test_send_empty_sends_no_papers_message(engine, now, tmp_path):
    seed(engine, now)
    subscribe(engine, now, {"quiet@example.com": ["interpretability"]})
    job = make_job(send_empty=True)
    edition, report = prepare_edition(engine=engine, day=DAY2, job=job, now=now)
    folder = tmp_path / "eml"
    send_due(
        engine=engine,
        edition=edition,
        report=report,
        job=job,
        transport=EmlTransport(folder),
        clock=fixed_clock(now),
    )
    [eml] = folder.glob("*.eml")
    assert "No papers in your topics" in eml.read_text()


def test_connection_refused_claims_nothing(engine, now):
    seed(engine, now)
    subscribe(engine, now, {"ann@example.com": ["long-context"]})
    job = make_job()
    edition, report = prepare_edition(engine=engine, day=DAY2, job=job, now=now)
    target = SmtpTarget("127.0.0.1", free_port(), "", "", starttls=False, implicit_tls=False)
    with pytest.raises(DeliveryError, match="cannot connect"):
        send_due(
            engine=engine,
            edition=edition,
            report=report,
            job=job,
            transport=SmtpTransport(target, timeout=2),
            clock=fixed_clock(now + timedelta(seconds=1)),
        )
    with read_session(engine) as session:
        assert session.exec(select(OutboxMessage.state)).all() == ["pending"]


def test_email_secret_is_created_once_or_taken_from_env(tmp_path, engine):
    from pipeline.app import Paperboy
    from pipeline.store.meta import stored_secret

    first = stored_secret(engine)
    assert len(first) == 64 and stored_secret(engine) == first
    assert Paperboy(make_config(tmp_path), engine=engine).secret == first
    from_env = make_config(tmp_path, env={"PAPERBOY_SECRET": "from-env"})
    assert Paperboy(from_env, engine=engine).secret == b"from-env"
    assert "from-env" not in repr(from_env)  # secrets never show in a repr
