"""Delivery in batches (issue 14): a batch's claim and its outcomes are one write transaction each,
a crash in between leaves the whole batch ``sending`` (then ``uncertain``, never resent blindly),
a transport that stops hands the unsent rows back; each paper's view is built once per edition;
an edition nobody is subscribed to is not frozen. Real SQLite, real aiosmtpd, real processes."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jinja2
import pytest
from sqlalchemy import Engine, event, text

import pipeline.mail.render as render_module
from pipeline.app import Paperboy
from pipeline.clock import fixed_clock
from pipeline.config import SmtpTarget
from pipeline.failpoints import EXIT_CODE
from pipeline.mail.render import TEXT_TEMPLATE, PaperViews, digest_context, render_bodies
from pipeline.mail.send import prepare_edition, send_due
from pipeline.mail.transports import SmtpTransport
from pipeline.store.engine import init_db, make_engine, read_session
from pipeline.topics import load_topics, topics_file
from tests.conftest import make_config
from tests.email_support import DAY2, Sink, make_job, seed, smtp_sink, subscribe

REPO = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def _people(n: int) -> dict[str, list[str]]:
    return {f"reader{i:03d}@example.com": ["long-context"] for i in range(n)}


def _states(engine: Engine) -> dict[str, str]:
    with read_session(engine) as session:
        rows = session.execute(text(
            "SELECT s.email, o.state FROM outbox o JOIN subscriber s ON s.id = o.subscriber_id"
        ))  # fmt: skip
        return dict(rows.all())  # type: ignore[arg-type]


def _send(engine: Engine, port: int, *, batch: int, now: datetime = NOW) -> Any:
    job = make_job()
    edition, report = prepare_edition(engine=engine, day=DAY2, job=job, now=now)
    target = SmtpTarget("127.0.0.1", port, "", "", starttls=False, implicit_tls=False)
    return send_due(engine=engine, edition=edition, report=report, job=job, batch=batch,
                    transport=SmtpTransport(target, timeout=5), clock=fixed_clock(now))  # fmt: skip


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Any:
    engine = make_engine(f"sqlite:///{tmp_path / 'paperboy.db'}")
    init_db(engine)
    yield engine
    engine.dispose()


def test_a_batch_is_two_write_transactions_claim_then_outcomes(sqlite_engine: Engine) -> None:
    seed(sqlite_engine, NOW)
    subscribe(sqlite_engine, NOW, _people(7))
    writes: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement == "BEGIN IMMEDIATE":
            writes.append(statement)

    sink = Sink()
    with smtp_sink(sink) as port:
        job = make_job()
        edition, report = prepare_edition(engine=sqlite_engine, day=DAY2, job=job, now=NOW)
        event.listen(sqlite_engine, "before_cursor_execute", count)
        target = SmtpTarget("127.0.0.1", port, "", "", starttls=False, implicit_tls=False)
        transport = SmtpTransport(target, timeout=5)
        report = send_due(engine=sqlite_engine, edition=edition, report=report, job=job, batch=3,
                          transport=transport, clock=fixed_clock(NOW))  # fmt: skip
        event.remove(sqlite_engine, "before_cursor_execute", count)
    assert report.outcomes == {"sent": 7}
    # batches of 3, 3 and 1: a claim and an outcome transaction each, then the empty claim
    # (one transaction per message's outcome before: 11)
    assert len(writes) == 3 * 2 + 1
    assert set(_states(sqlite_engine).values()) == {"sent"}
    assert len(set(sink.message_ids())) == 7


def test_a_transport_that_stops_mid_batch_hands_the_unsent_rows_back(engine: Engine) -> None:
    seed(engine, NOW)
    people = _people(5)
    subscribe(engine, NOW, people)
    sink = Sink(drop_after=2)  # the connection closes after the second message
    with smtp_sink(sink) as port:
        first = _send(engine, port, batch=5)
        assert first.stopped and first.outcomes == {"sent": 2, "retry": 1}
        assert Counter(_states(engine).values()) == {"sent": 2, "retry": 1, "pending": 2}
        second = _send(engine, port, batch=5, now=NOW + timedelta(hours=2))
    assert second.ok and second.totals["sent"] == 5
    ids = sink.message_ids()
    assert len(ids) == len(set(ids)) == 5


def test_each_paper_view_is_built_once_per_edition(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(engine, NOW)
    sets = [["long-context"], ["retrieval-rag"], ["long-context", "retrieval-rag"], ["all"]]
    subscribe(engine, NOW, {f"r{n}@example.com": chosen for n, chosen in enumerate(sets)})
    built: list[str] = []
    real = render_module.paper_view

    def counting(paper: Any, **kwargs: Any) -> dict[str, Any]:
        built.append(paper.key)
        return real(paper, **kwargs)

    monkeypatch.setattr(render_module, "paper_view", counting)
    sink = Sink()
    with smtp_sink(sink) as port:
        report = _send(engine, port, batch=20)
    assert report.outcomes == {"sent": 4} and report.topic_sets == 4
    assert sorted(built) == sorted(set(built))  # once each, though shared by topic sets
    assert len(built) == 4  # DAY2's papers (everything: all four)


def test_shared_views_and_remembered_wraps_render_the_same_bodies(engine: Engine) -> None:
    seed(engine, NOW)
    job = make_job()
    edition, _report = prepare_edition(engine=engine, day=DAY2, job=job, now=NOW)
    titles = {t.slug: t.title for t in job.topics}
    views = PaperViews()
    plain = jinja2.Environment(  # jinja's own wordwrap
        loader=job.envs.text.loader,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    for chosen in (["long-context"], ["retrieval-rag", "long-context"], ["all"]) * 2:
        part = edition.for_topics(chosen)
        kwargs: Any = {
            "chosen": chosen,
            "titles": titles,
            "envs": job.envs,
            "settings": job.settings,
        }
        assert render_bodies(part, views=views, **kwargs) == render_bodies(part, **kwargs)
        context = digest_context(part, chosen=chosen, titles=titles, settings=job.settings,
                                 max_papers=25, views=views)  # fmt: skip
        ours = job.envs.text.get_template(TEXT_TEMPLATE).render(context)
        assert ours == plain.get_template(TEXT_TEMPLATE).render(context)
    assert len(views) == 4


def test_an_edition_nobody_is_subscribed_to_is_not_frozen(tmp_path: Path) -> None:
    cfg = make_config(tmp_path, env={"PAPERBOY_SECRET": "s"})
    with Paperboy(cfg, clock=fixed_clock(NOW), topics=load_topics(topics_file(None))) as pb:
        init_db(pb.engine)
        seed(pb.engine, NOW)
        report = pb.send_edition(DAY2)
        assert report.nobody and "no active daily subscriber: not frozen" in report.summary()
        with read_session(pb.engine) as session:
            assert session.execute(text("SELECT count(*) FROM mail_edition")).scalar_one() == 0
        pb.add_subscriber("ann@example.org")
        report = pb.send_edition(DAY2)  # .eml files: no SMTP configured
        assert report.froze and report.outcomes == {"sent": 1}


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_a_kill_after_k_of_n_sent_leaves_the_batch_uncertain_never_resent(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'data' / 'paperboy.db'}")  # makes data/
    init_db(engine)
    seed(engine, NOW)
    people = _people(5)
    subscribe(engine, NOW, people)
    sink = Sink()
    with smtp_sink(sink) as port:
        config = tmp_path / "paperboy.toml"
        config.write_text(f'[email]\nsmtp_url = "smtp://127.0.0.1:{port}"\nbatch = 3\n')

        def emails(now: datetime, failpoint: str = "") -> subprocess.CompletedProcess[str]:
            env = {k: v for k, v in os.environ.items() if not k.startswith("PAPERBOY_")}
            env.update(PYTHONPATH=str(REPO), PAPERBOY_CONFIG=str(config), PAPERBOY_SECRET="s",
                       PAPERBOY_NOW=now.isoformat())  # fmt: skip
            if failpoint:
                env["PAPERBOY_FAILPOINT"] = failpoint
            return subprocess.run([sys.executable, "-m", "pipeline", "emails", "--edition",
                                   str(DAY2)], cwd=tmp_path, env=env, capture_output=True,
                                  text=True, timeout=60, check=False)  # fmt: skip

        killed = emails(NOW, "after_send:2")  # the second of a batch of three accepted: killed
        assert killed.returncode == EXIT_CODE, killed.stderr
        assert len(sink.messages) == 2
        assert Counter(_states(engine).values()) == {"sending": 3, "pending": 2}
        rerun = emails(NOW + timedelta(minutes=40))  # the 15-minute lease has passed
    assert rerun.returncode == 1 and "uncertain" in rerun.stderr
    assert Counter(_states(engine).values()) == {"uncertain": 3, "sent": 2}
    received = [to for _from, (to,) in sink.envelopes]
    assert len(received) == len(set(received)) == 4  # the third of the batch never went out
    uncertain = {who for who, state in _states(engine).items() if state == "uncertain"}
    assert set(received[:2]) <= uncertain and not set(received[2:]) & uncertain
    engine.dispose()


def test_lines_starting_with_a_dot_arrive_intact() -> None:
    from pipeline.mail.smtp import close_smtp, open_smtp, send_one

    body = b".starts with a dot\r\n..two dots\r\nmiddle . dot\r\n.\r\nlast line without end"
    data = b"Subject: dots\r\nTo: ann@example.org\r\n\r\n" + body
    sink = Sink()
    with smtp_sink(sink) as port:
        conn = open_smtp(SmtpTarget("127.0.0.1", port, "", "", starttls=False, implicit_tls=False))
        outcome = send_one(conn, sender="pb@example.org", recipient="ann@example.org", data=data)
        close_smtp(conn)
    assert outcome.state == "sent"
    received = sink.messages[0].get_content().replace("\r\n", "\n")  # type: ignore[attr-defined]
    assert received == body.decode().replace("\r\n", "\n") + "\n"
