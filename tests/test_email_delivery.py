"""Exactly-once delivery through the outbox against a real aiosmtpd server (E1, E5-E8, E12)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlmodel import select

from pipeline.clock import fixed_clock
from pipeline.config import SmtpTarget, parse_smtp_url
from pipeline.errors import ConfigError
from pipeline.mail.send import prepare_edition, send_due
from pipeline.mail.transports import EmlTransport, SmtpTransport
from pipeline.store.engine import read_session, write_session
from pipeline.store.tables import OutboxMessage, Subscriber
from tests.email_support import DAY2, Sink, make_job, parse, seed, smtp_sink, subscribe

TOPICS = {
    "long-context": ["long-context"],
    "rag": ["retrieval-rag"],
    "both": ["long-context", "retrieval-rag", "mixture-of-experts"],
    "none": ["interpretability"],
}


def _people(n: int) -> dict[str, list[str]]:
    sets = list(TOPICS.values())[:3]
    return {f"reader{i:03d}@example.com": sets[i % 3] for i in range(n)}


def _run(engine, now, port, *, job=None, resend=False):
    job = job or make_job()
    target = SmtpTarget("127.0.0.1", port, "", "", starttls=False, implicit_tls=False)
    edition, report = prepare_edition(
        engine=engine, day=DAY2, job=job, now=now, resend_uncertain=resend
    )
    return send_due(
        engine=engine,
        edition=edition,
        report=report,
        job=job,
        transport=SmtpTransport(target, timeout=5),
        clock=fixed_clock(now),
    )


def _states(engine) -> dict[str, str]:
    with read_session(engine) as session:
        rows = session.exec(
            select(Subscriber.email, OutboxMessage.state).join(
                OutboxMessage, OutboxMessage.subscriber_id == Subscriber.id
            )
        ).all()
    return dict(rows)


def test_send_edition_one_message_each_and_rerun_sends_none(engine, now):
    seed(engine, now)
    subscribe(engine, now, _people(5) | {"quiet@example.com": TOPICS["none"]})
    sink = Sink()
    with smtp_sink(sink) as port:
        first = _run(engine, now, port)
        second = _run(engine, now + timedelta(hours=1), port)
    assert first.outcomes == {"sent": 5}
    assert first.topic_sets == 3
    assert second.attempted == 0 and second.planned == 0
    ids = sink.message_ids()
    assert len(ids) == 5 and len(set(ids)) == 5
    assert sorted(rcpt for _frm, (rcpt,) in sink.envelopes) == sorted(_people(5))
    # E12: no papers in the quiet subscriber's topics: no message and no outbox row.
    assert "quiet@example.com" not in _states(engine)
    for msg in sink.messages:
        assert re.fullmatch(r"<[0-9a-f]{32}@example\.org>", str(msg["Message-ID"]))
        text = msg.get_body(("plain",)).get_content()
        html = msg.get_body(("html",)).get_content()
        assert "Efficient Streaming" in text or "LongLoRA" in text or "Retrieval" in text
        assert "Unsubscribe" in html[:2000] + text[:2000]


@pytest.mark.parametrize("drop_after", [1, 7])
def test_send_edition_resumes_after_server_drops_connection(engine, now, drop_after):
    seed(engine, now)
    people = _people(12)
    subscribe(engine, now, people)
    sink = Sink(drop_after=drop_after)
    with smtp_sink(sink) as port:
        first = _run(engine, now, port)
        assert first.stopped and first.outcomes.get("sent") == drop_after
        later = now + timedelta(hours=2)
        second = _run(engine, later, port)
    ids = sink.message_ids()
    assert len(ids) == len(people) and len(set(ids)) == len(people)  # no dupes, none missing
    assert second.totals["sent"] == len(people)
    assert set(_states(engine).values()) == {"sent"}


def test_send_edition_drop_after_storing_is_uncertain_and_not_resent(engine, now):
    seed(engine, now)
    subscribe(engine, now, _people(4))
    sink = Sink(drop_after_storing={2})
    with smtp_sink(sink) as port:
        first = _run(engine, now, port)
        assert first.outcomes == {"sent": 1, "uncertain": 1}
        assert not first.ok and first.totals["uncertain"] == 1
        second = _run(engine, now + timedelta(hours=1), port)
        assert second.outcomes == {"sent": 2} and second.totals["uncertain"] == 1
        third = _run(engine, now + timedelta(hours=2), port, resend=True)
    assert third.outcomes == {"sent": 1} and third.totals["uncertain"] == 0
    ids = sink.message_ids()
    assert len(ids) == 5 and len(set(ids)) == 4  # the resend re-uses the Message-ID
    assert ids[1] == ids[-1]


def test_send_edition_classifies_450_550_and_421(engine, now):
    seed(engine, now)
    people = _people(6)
    subscribe(engine, now, people)
    names = sorted(people)
    sink = Sink(
        rcpt_replies={
            names[0]: "450 4.2.1 mailbox busy",
            names[1]: "550 5.1.1 no such user",
        },
        data_replies={3: "421 4.3.0 closing, try later"},
    )
    with smtp_sink(sink) as port:
        first = _run(engine, now, port)
        states = _states(engine)
        assert states[names[0]] == "retry" and states[names[1]] == "failed"
        assert first.stopped and "421" in first.stopped
        assert first.outcomes == {"retry": 2, "failed": 1, "sent": 2}
        assert sorted(states.values()).count("pending") == 1  # the rest stays pending
        sink.rcpt_replies.clear()
        too_early = _run(engine, now + timedelta(minutes=5), port)
        assert names[0] not in [to for _f, (to,) in sink.envelopes[2:]]
        later = _run(engine, now + timedelta(hours=2), port)
    with read_session(engine) as session:
        bad = session.exec(select(Subscriber).where(Subscriber.email == names[1])).one()
        failed = session.exec(
            select(OutboxMessage).where(OutboxMessage.subscriber_id == bad.id)
        ).one()
        assert bad.status == "bouncing" and failed.attempts == 1  # never retried
    assert too_early.totals["sent"] == 3 and later.totals["sent"] == 5  # 421 row backs off too
    assert _states(engine)[names[0]] == "sent"
    ids = sink.message_ids()
    assert len(ids) == len(set(ids)) == 5


def test_send_edition_stale_sending_row_becomes_uncertain(engine, now):
    seed(engine, now)
    subscribe(engine, now, _people(2))
    job = make_job()
    prepare_edition(engine=engine, day=DAY2, job=job, now=now)
    with write_session(engine) as session:  # a process claimed a row and died
        row = session.exec(select(OutboxMessage)).first()
        row.state, row.claimed_at = "sending", now
        session.add(row)
    _edition, fresh = prepare_edition(
        engine=engine, day=DAY2, job=job, now=now + timedelta(minutes=5)
    )
    with read_session(engine) as session:
        assert session.exec(select(OutboxMessage.state)).all().count("sending") == 1
    _edition, report = prepare_edition(
        engine=engine, day=DAY2, job=job, now=now + timedelta(minutes=20)
    )
    with read_session(engine) as session:
        assert sorted(session.exec(select(OutboxMessage.state)).all()) == ["pending", "uncertain"]
    assert fresh.planned == 0 and report.planned == 0


def test_eml_transport_writes_each_message_once(engine, now, tmp_path):
    seed(engine, now)
    subscribe(engine, now, _people(3))
    job = make_job()
    folder = tmp_path / "out" / "outbox" / DAY2.isoformat()
    for hours in (0, 1):
        edition, report = prepare_edition(engine=engine, day=DAY2, job=job, now=now)
        send_due(
            engine=engine,
            edition=edition,
            report=report,
            job=job,
            transport=EmlTransport(folder),
            clock=fixed_clock(now + timedelta(hours=hours)),
        )
    files = sorted(folder.glob("*.eml"))
    assert len(files) == 3 and not list(folder.glob(".tmp-*"))
    assert {str(parse(f)["To"]) for f in files} == set(_people(3))


def test_unsubscribed_after_planning_is_skipped(engine, now):
    seed(engine, now)
    subscribe(engine, now, _people(2))
    job = make_job()
    edition, report = prepare_edition(engine=engine, day=DAY2, job=job, now=now)
    with write_session(engine) as session:
        sub = session.exec(
            select(Subscriber).where(Subscriber.email == "reader000@example.com")
        ).one()
        sub.status = "unsubscribed"
        session.add(sub)
    sink = Sink()
    with smtp_sink(sink) as port:
        target = SmtpTarget("127.0.0.1", port, "", "", starttls=False, implicit_tls=False)
        send_due(
            engine=engine,
            edition=edition,
            report=report,
            job=job,
            transport=SmtpTransport(target, timeout=5),
            clock=fixed_clock(now),
        )
    assert _states(engine) == {"reader000@example.com": "skipped", "reader001@example.com": "sent"}


def test_parse_smtp_url_reads_options_and_refuses_password_in_url():
    target = parse_smtp_url("smtp://me%40x@mail.example.org:2525?starttls=true", password="pw")
    assert (target.host, target.port, target.user, target.starttls) == (
        "mail.example.org",
        2525,
        "me@x",
        True,
    )
    assert "pw" not in repr(target) and "pw" not in target.describe()
    with pytest.raises(ConfigError, match="PAPERBOY_SMTP_PASSWORD"):
        parse_smtp_url("smtp://me:secret@host")
    with pytest.raises(ConfigError, match="unknown options"):
        parse_smtp_url("smtp://host?tls=1")
