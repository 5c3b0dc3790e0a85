"""Operator alert mail to a real aiosmtpd sink: sent when a source failed N runs in a row, a
weekday brought no paper, digests failed; once per problem per day (a rerun sends none); headers
sanitised; released when the server is down (issue 13)."""

from __future__ import annotations

import re
from datetime import date
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from click.testing import CliRunner
from sqlalchemy import Engine, text

from pipeline.cli import cli
from pipeline.config import HealthConfig
from pipeline.health import assess
from pipeline.mail.alerts import alert_message
from pipeline.mail.render import settings_from
from pipeline.records import Problem
from tests.email_support import Sink, free_port, smtp_sink
from tests.health_support import SITE, Api, at, health_config, installation, run_at
from tests.test_health_rules import NOW, snapshot

OPS = "ops@example.org"
MSGID = re.compile(r"^<[0-9a-f]{32}@example\.org>$")


def alerts(sink: Sink) -> list[EmailMessage]:
    """The alert mails the sink got (digests go to subscribers, alerts to OPS)."""
    return [m for m in sink.messages if OPS in str(m["To"])]


def alert_log(engine: Engine) -> list[tuple[str, str]]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT key, state FROM alert_log ORDER BY key"))
        return [(str(k), str(s)) for k, s in rows]


@pytest.fixture
def sink() -> Sink:
    return Sink(rcpt_replies={"bob@example.org": "550 5.1.1 <bob@example.org>: no such user"})


def test_failing_source_is_mailed_once_a_day_and_a_rerun_sends_none(
    tmp_path: Path, engine: Engine, sink: Sink
) -> None:
    with smtp_sink(sink) as port:
        cfg = health_config(tmp_path, engine, email={"smtp_url": f"smtp://127.0.0.1:{port}"},
                            alerts={"to": OPS})  # fmt: skip
        pb, clock = installation(cfg, engine, at("2026-08-18"))
        api = Api()
        run_at(pb, clock, api, at("2026-08-18"))
        # bob's address is refused (550 5.1.1) on the first edition sent, then he is bouncing
        (first,) = alerts(sink)
        assert first["Subject"] == "[paperboy] needs a person: 1 digest(s) of 2026-08-17 failed"
        assert "edition 2026-08-17: 1 digest(s) failed" in first.get_content()
        assert "bob@example.org" not in first.as_string()  # no subscriber address in alerts

        api.down = True
        api.reason = "Service Unavailable\r\nBcc: evil@example.net"  # a hostile server
        for day in ("2026-08-19", "2026-08-20"):
            assert not run_at(pb, clock, api, at(day)).ok
        assert len(alerts(sink)) == 1  # two failed runs: not yet
        report = run_at(pb, clock, api, at("2026-08-21"))
        assert [f.origin for f in report.failures if f.origin == "alerts"] == []
        second = alerts(sink)[-1]
        assert len(alerts(sink)) == 2
        assert second["Subject"] == "[paperboy] needs a person: source hf-daily failing"
        assert second["From"] == "Lab papers <digest@example.org>"
        assert second["Auto-Submitted"] == "auto-generated"
        assert MSGID.match(second["Message-ID"]) and second["Message-ID"] != first["Message-ID"]
        assert second.get_content_type() == "text/plain" and not second.is_multipart()
        assert second["Bcc"] is None and "evil@example.net" not in sink.envelopes[-1][1]
        body = second.get_content()
        assert "1. source hf-daily: failed on the last 3 runs in a row" in body
        assert "HTTP 503 Service Unavailable Bcc: evil@example.net" in " ".join(body.split())
        assert "Still open, mailed before:" in body and "1 digest(s) failed" in body
        assert f"paperboy at {SITE} needs a person" in body

        # the same day again (cron and scheduler overlapping, a rerun): no second mail
        run_at(pb, clock, api, at("2026-08-21", "12:00"))
        runner = CliRunner()
        config = tmp_path / "alerts.toml"
        config.write_text(
            f'[store]\ndatabase_url = "{engine.url.render_as_string(hide_password=False)}"\n'
            f'[email]\nsmtp_url = "smtp://127.0.0.1:{port}"\n[alerts]\nto = "{OPS}"\n'
            '[ingest]\ncatch_up_max_days = 3\n',
            encoding="utf-8",
        )  # fmt: skip
        env = {"PAPERBOY_CONFIG": str(config), "PAPERBOY_NOW": "2026-08-21T18:00:00+00:00"}
        watcher = runner.invoke(cli, ["status", "--alert"], env=env, catch_exceptions=False)
        assert watcher.exit_code == 1
        assert watcher.stderr == "alerts: nothing new to mail (2 open problem(s) mailed before)\n"
        assert len(alerts(sink)) == 2

        # the next day it still fails: one reminder; then it heals: nothing more
        run_at(pb, clock, api, at("2026-08-22"))
        assert len(alerts(sink)) == 3
        assert alerts(sink)[-1]["Subject"] == "[paperboy] needs a person: source hf-daily failing"
        api.down = False
        assert run_at(pb, clock, api, at("2026-08-23")).ok
        assert len(alerts(sink)) == 3
    assert alert_log(engine) == [
        ("deliveries:2026-08-17:failed:1", "sent"),
        ("source:hf-daily@2026-08-21", "sent"),
        ("source:hf-daily@2026-08-22", "sent"),
    ]


def test_an_empty_weekday_is_mailed_once(tmp_path: Path, engine: Engine) -> None:
    sink = Sink()
    with smtp_sink(sink) as port:
        cfg = health_config(tmp_path, engine, email={"smtp_url": f"smtp://127.0.0.1:{port}"},
                            alerts={"to": f"{OPS}, Oncall@Example.org"})  # fmt: skip
        pb, clock = installation(cfg, engine, at("2026-08-18"))
        api = Api()
        api.empty = {date(2026, 8, 18)}
        for day in ("2026-08-18", "2026-08-19", "2026-08-20", "2026-08-21"):
            assert run_at(pb, clock, api, at(day)).ok
    mailed = alerts(sink)[::2]  # one message, sent once per operator address
    assert len(mailed) == 1  # on the 19th, then the Tuesday is known: not again
    assert mailed[0]["To"] == "ops@example.org, Oncall@example.org"
    assert mailed[0]["Subject"] == (
        "[paperboy] needs a person: hf-daily: no papers on Tue 2026-08-18"
    )
    assert mailed[0]["Date"] == "Wed, 19 Aug 2026 07:30:00 +0000"
    # one message, one envelope per operator address
    operators = [[OPS], ["Oncall@example.org"]]
    assert [rcpt for _sender, rcpt in sink.envelopes if rcpt in operators] == operators
    assert len({m["Message-ID"] for m in sink.messages if "no papers" in str(m["Subject"])}) == 1


def test_alert_is_retried_when_the_server_was_down(tmp_path: Path, engine: Engine) -> None:
    """Connection refused: the run fails with 'alerts', nothing is claimed; the next check mails."""
    port = free_port()  # nothing listens yet
    cfg = health_config(tmp_path, engine, email={"smtp_url": f"smtp://127.0.0.1:{port}"},
                        alerts={"to": OPS}, health={"failed_runs": 1})  # fmt: skip
    pb, clock = installation(cfg, engine, at("2026-08-18"))
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM subscriber"))  # no digests: only the alert needs SMTP
    api = Api()
    api.down = True
    report = run_at(pb, clock, api, at("2026-08-18"))
    failed = [f for f in report.failures if f.origin == "alerts"]
    assert len(failed) == 1 and "cannot connect" in failed[0].message
    assert alert_log(engine) == []
    with engine.connect() as conn:
        # three dates failed to fetch, and the alert: the run log counts all four
        assert conn.execute(text("SELECT failures, ok FROM run_log")).one() == (4, False)
    assert len(report.failures) == 4
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        clock.at = at("2026-08-18", "08:00")
        sent = pb.alert(pb.status())
    finally:
        controller.stop()
    assert sent.state == "sent" and [p.key for p in sent.mailed] == ["source:hf-daily"]
    assert len(alerts(sink)) == 1
    assert alert_log(engine) == [("source:hf-daily@2026-08-18", "sent")]


def test_eml_outbox_without_smtp(tmp_path: Path, engine: Engine) -> None:
    cfg = health_config(tmp_path, engine, alerts={"to": OPS}, health={"failed_runs": 1})
    pb, clock = installation(cfg, engine, at("2026-08-18"))
    api = Api()
    api.down = True
    run_at(pb, clock, api, at("2026-08-18"))
    run_at(pb, clock, api, at("2026-08-18", "10:00"))
    files = sorted((cfg.output_dir / "outbox" / "alerts").glob("*.eml"))
    assert len(files) == 1
    assert b"Subject: [paperboy] needs a person: source hf-daily failing" in files[0].read_bytes()


def test_alert_headers_are_sanitised() -> None:
    """A problem's text (a source's error, a name) cannot add a header (CVE-2024-6923)."""
    hostile = Problem(
        "k", "source", "x\r\nBcc: evil@example.net =?UTF-8?Q?=0A?=X-Evil: 1\u2028Y: 2",
        "message\r\nZ: 3", "hint", daily=True,
    )  # fmt: skip
    settings = settings_from(title="Lab\nX: 1", sender="Lab <digest@example.org>", site_url="",
                             unsubscribe_address="")  # fmt: skip
    report = assess(snapshot(), now=NOW, cfg=HealthConfig())
    data = alert_message([hostile], [], report, recipients=[OPS], settings=settings,
                         message_id="<" + "a" * 32 + "@example.org>", now=NOW)  # fmt: skip
    msg = message_from_bytes(data, policy=policy.default)
    assert sorted(msg.keys()) == sorted([
        "From", "To", "Subject", "Date", "Message-ID", "Auto-Submitted", "Content-Type",
        "Content-Transfer-Encoding", "MIME-Version",
    ])  # fmt: skip
    assert "\n" not in str(msg["Subject"]) and "Bcc" not in msg
    assert str(msg["Subject"]).startswith("[Lab X: 1] needs a person: x Bcc: evil@example.net")
