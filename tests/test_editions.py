"""Editions readers can trust (issue 13 part 1): settled editions, "Added late", weekly
editions, no floods. Real SQLite and PostgreSQL, real aiosmtpd, the recorded API over a
MockTransport whose day grows between runs, fixed clocks moved run by run."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, text

from pipeline.app import Paperboy
from pipeline.clock import fixed_clock
from pipeline.config import Config
from pipeline.run import RunReport, run_once
from pipeline.topics import parse_topics
from tests.conftest import DATA, make_config
from tests.email_support import Sink, smtp_sink
from tests.hf_support import FakeClock, mock_client

D, D1 = date(2026, 8, 20), date(2026, 8, 21)  # a Thursday and a Friday of ISO week 2026-W34
RECORDED = {
    day: json.loads((DATA / "hf" / "week" / f"{day}.json").read_text(encoding="utf-8"))
    for day in (D, D1)
}
# One topic that takes every paper, so "every paper reaches every subscriber" is checkable.
EVERYTHING = parse_topics(
    {
        "topics": [
            {
                "slug": "everything",
                "title": "Everything",
                "description": "every paper",
                "include_regex": ["."],
                "threshold": 1.0,
            }
        ]
    },
    origin="test",
)
DAILY = ("ada@example.org", "bob@example.org")
WEEKLY = "cy@example.org"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


class GrowingApi:
    """The recorded API, serving only the first ``served[day]`` entries of each day."""

    def __init__(self) -> None:
        self.served: dict[date, int] = {}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        day = date.fromisoformat(request.url.params["date"])
        if request.url.params.get("p", "0") != "0":
            return httpx.Response(200, json=[])
        entries = RECORDED.get(day, [])[: self.served.get(day, 0)]
        return httpx.Response(200, json=entries)


def titles(day: date, count: int | None = None) -> list[str]:
    return [entry["title"] for entry in RECORDED[day][:count]]


def sections(message: EmailMessage) -> dict[str, list[str]]:
    """Section name -> titles listed, read back from the text part."""
    found: dict[str, list[str]] = {}
    current = ""
    for line in message.get_body(("plain",)).get_content().splitlines():  # type: ignore[union-attr]
        head = re.fullmatch(r"== (.+) \(\d+\) ==", line)
        if head:
            current = head.group(1)
            found[current] = []
        elif line.startswith("* ") and current:
            found[current].append(line[2:])
    return found


class Installation:
    """A store, a config pointing at the sink, subscribers; runs ``paperboy run`` at a time."""

    def __init__(self, tmp_path: Path, engine: Engine, port: int, **email: Any) -> None:
        self.engine = engine
        self.api = GrowingApi()
        self.cfg: Config = make_config(
            tmp_path,
            ingest={"catch_up_max_days": 3},
            output={"site_url": "https://papers.example.org/"},
            http={"retries": 1},
            email={"smtp_url": f"smtp://127.0.0.1:{port}", "sender": "pb <pb@example.org>",
                   **email},
            env={"PAPERBOY_SECRET": "editions-secret"},
        )  # fmt: skip
        pb = self.paperboy(at("2026-08-19T09:00:00"))
        for person in DAILY:
            pb.add_subscriber(person, ["everything"])
        pb.add_subscriber(WEEKLY, ["everything"], frequency="weekly")

    def paperboy(self, now: datetime) -> Paperboy:
        return Paperboy(self.cfg, engine=self.engine, clock=fixed_clock(now), topics=EVERYTHING)

    def run(self, now: str, served: dict[date, int] | None = None) -> RunReport:
        """``paperboy run`` at ``now`` (UTC), the API serving ``served`` papers per day."""
        self.api.served.update(served or {})
        with mock_client(self.api, self.cfg.http) as client:
            return run_once(self.paperboy(at(now)), client=client, sleep=FakeClock().sleep)


@pytest.fixture
def sink() -> Iterator[tuple[Sink, int]]:
    box = Sink()
    with smtp_sink(box) as port:
        yield box, port


def _to(sink: Sink, person: str) -> list[EmailMessage]:
    return [m for m in sink.messages if m["To"] == person]


@pytest.mark.timeout(120)
def test_growing_day_every_paper_reaches_each_subscriber_exactly_once(
    tmp_path: Path, engine: Engine, sink: tuple[Sink, int]
) -> None:
    box, port = sink
    site = Installation(tmp_path, engine, port)
    # D's list grows during D: 10, then 14 papers. Nothing is mailed before D has settled.
    first = site.run("2026-08-20T12:00:00", {D: 10})
    assert first.ok and first.emails == () and not box.messages
    assert first.email_note == "nothing due: edition 2026-08-20 settles at 2026-08-21 06:00 UTC"
    site.run("2026-08-20T20:00:00", {D: 14})
    assert not box.messages
    # The morning after: D settled (06:00 UTC), the 07:30 run mails D's complete list.
    morning = site.run("2026-08-21T07:30:00", {D1: 5})
    assert morning.ok, morning.failures
    assert [e.ref.label for e in morning.emails] == ["2026-08-20"]
    for person in DAILY:
        [mail] = _to(box, person)
        assert sections(mail) == {"New": titles(D, 14)}
        assert "2026-08-20" in str(mail["Subject"])
    # Hugging Face adds a 15th paper to D after D's edition went out: the feeds get it now...
    later = site.run("2026-08-21T12:00:00", {D: 15, D1: 10})
    assert later.ok and later.emails == () and len(box.messages) == 2
    feed = (tmp_path / "out" / "feeds" / "all.xml").read_text(encoding="utf-8")
    assert titles(D)[14].split(":")[0] in feed
    # ...and the next edition a subscriber gets carries it under "Added late".
    next_day = site.run("2026-08-22T07:30:00", {D1: 17})
    assert next_day.ok and [e.ref.label for e in next_day.emails] == ["2026-08-21"]
    for person in DAILY:
        daily = _to(box, person)
        assert len(daily) == 2
        assert sections(daily[1]) == {"New": titles(D1), "Added late": [titles(D)[14]]}
        text_part = daily[1].get_body(("plain",)).get_content()  # type: ignore[union-attr]
        note = "Hugging Face added these papers to the list of Thu 20 Aug after that day's digest"
        assert note in " ".join(text_part.split())
        # every paper of D exactly once: in D's edition or as "Added late"
        got = Counter(t for mail in daily for name, ts in sections(mail).items()
                      if name in ("New", "Back again", "Added late") for t in ts
                      if t in titles(D))  # fmt: skip
        assert got == Counter(titles(D))
    # A rerun sends nothing; so does the weekly subscriber's wait for the week to end.
    again = site.run("2026-08-22T08:30:00")
    assert again.emails == () and len(box.messages) == 4 and not _to(box, WEEKLY)
    from pipeline.store.engine import read_session
    from pipeline.store.integrity import check_store

    with read_session(engine) as session:
        assert check_store(session=session) == []


@pytest.mark.timeout(120)
def test_weekly_subscriber_gets_one_mail_per_iso_week_and_a_rerun_sends_nothing(
    tmp_path: Path, engine: Engine, sink: tuple[Sink, int]
) -> None:
    box, port = sink
    site = Installation(tmp_path, engine, port, weekly_papers_per_topic=5)
    site.run("2026-08-21T07:30:00", {D: 15, D1: 17})
    site.run("2026-08-22T07:30:00")
    assert not _to(box, WEEKLY)  # the week is not over
    sunday = site.run("2026-08-23T23:00:00")  # over at midnight; settles at Monday 06:00
    assert sunday.email_note == (
        "nothing due: weekly edition 2026-W34 settles at 2026-08-24 06:00 UTC"
    )
    monday = site.run("2026-08-24T07:30:00")
    assert [e.ref.label for e in monday.emails] == ["2026-W34"]
    [weekly] = _to(box, WEEKLY)
    assert str(weekly["Subject"]).startswith("paperboy week 2026-W34: Everything: ")
    listed = sections(weekly)
    assert list(listed) == ["Everything"] and len(listed["Everything"]) == 5
    # the week's best by page rank: the first paper of each day first
    assert set(listed["Everything"][:2]) == {titles(D)[0], titles(D1)[0]}
    html = weekly.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "Week 34: 17 to 23 August 2026" in html and "32 papers in your topics" in html
    daily_ids = {str(m["Message-ID"]) for m in box.messages if m["To"] != WEEKLY}
    assert str(weekly["Message-ID"]) not in daily_ids
    for now in ("2026-08-24T09:00:00", "2026-08-25T07:30:00", "2026-08-31T07:30:00"):
        assert site.run(now).emails == ()  # reruns, the next day, the next (empty) week
    assert len(_to(box, WEEKLY)) == 1
    with engine.connect() as conn:
        kinds = conn.execute(text("SELECT kind, count(*) FROM outbox GROUP BY kind")).all()
    assert dict(kinds) == {"daily": 4, "weekly": 1}


ARCHIVE = DATA / "hf" / "archive" / "Paper_metadata_download"  # 5 real days, 2024 to 2026-07-15


def _cli(tmp_path: Path, now: str, *args: str) -> Any:
    """``paperboy ARGS`` at ``now`` (UTC) on a store and topics (one takes every paper) in
    ``tmp_path``."""
    from click.testing import CliRunner

    from pipeline.cli import cli

    config = tmp_path / "paperboy.toml"
    if not config.exists():
        (tmp_path / "topics.toml").write_text(
            '[[topics]]\nslug = "everything"\ntitle = "Everything"\ndescription = "all"\n'
            'include_regex = ["."]\nthreshold = 1.0\n',
            encoding="utf-8",
        )
        config.write_text('topics_file = "topics.toml"\n', encoding="utf-8")
    env = {
        "PAPERBOY_CONFIG": str(config),
        "PAPERBOY_NOW": f"{now}+00:00",
        "PAPERBOY_SECRET": "cli-secret",
    }
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def _emails_lines(result: Any) -> list[str]:
    return [line for line in result.stdout.splitlines() if line.startswith("emails:")]


def _eml(tmp_path: Path) -> list[str]:
    return sorted(p.parent.name for p in (tmp_path / "out" / "outbox").rglob("*.eml"))


def test_run_over_an_archive_without_subscribers_says_so_once(tmp_path: Path) -> None:
    result = _cli(tmp_path, "2026-07-16T07:30:00", "run", "--offline", "--pages", str(ARCHIVE))
    assert result.exit_code == 0, result.output
    assert _emails_lines(result) == ["emails: no active subscriber: no edition planned"]
    assert _eml(tmp_path) == []


def test_run_over_an_archive_mails_no_old_editions(tmp_path: Path) -> None:
    _cli(tmp_path, "2026-07-16T07:30:00", "subscribers", "add", "ann@example.org",
         "--topics", "everything")  # fmt: skip
    late = _cli(tmp_path, "2026-08-21T07:30:00", "run", "--offline", "--pages", str(ARCHIVE))
    assert _emails_lines(late) == [
        "emails: nothing due: no papers listed in the last 14 day(s) (catch_up_max_days); "
        "older editions are mailed only on request: `paperboy emails --edition YYYY-MM-DD`"
    ]
    assert _eml(tmp_path) == []
    asked = _cli(tmp_path, "2026-08-21T07:30:00", "emails", "--edition", "2025-03-17")
    assert asked.exit_code == 0 and asked.stdout.startswith("edition 2025-03-17: ")
    assert _eml(tmp_path) == ["2025-03-17"]
    again = _cli(tmp_path, "2026-08-21T08:30:00", "run", "--offline", "--pages", str(ARCHIVE))
    assert again.exit_code == 0 and _eml(tmp_path) == ["2025-03-17"]


def test_run_mails_the_settled_editions_of_the_window_only(tmp_path: Path) -> None:
    _cli(tmp_path, "2026-07-14T10:00:00", "subscribers", "add", "ann@example.org",
         "--topics", "everything")  # fmt: skip
    # subscribed after the 15th's edition settled (06:00 on the 16th): the next one is theirs
    _cli(tmp_path, "2026-07-16T07:00:00", "subscribers", "add", "new@example.org",
         "--topics", "everything")  # fmt: skip
    quiet = _cli(tmp_path, "2026-07-16T07:30:00", "run", "--no-email", "--offline",
                 "--pages", str(ARCHIVE))  # fmt: skip
    assert _emails_lines(quiet) == ["emails: not sent (--no-email)"] and _eml(tmp_path) == []
    result = _cli(tmp_path, "2026-07-16T07:30:00", "run", "--offline")
    [line] = _emails_lines(result)
    assert line.startswith("emails: 1 sent for 1 edition(s): 2026-07-15 sent 1")
    assert _eml(tmp_path) == ["2026-07-15"]  # not 2024-05-29, 2024-12-11, 2025-...
    asked = _cli(tmp_path, "2026-07-16T08:00:00", "emails", "--edition", "2026-07-15")
    assert "1 new outbox row(s)" in asked.stdout  # on request: every active subscriber
    assert _eml(tmp_path) == ["2026-07-15", "2026-07-15"]


def test_emails_week_sends_a_weekly_edition_on_request(tmp_path: Path) -> None:
    _cli(tmp_path, "2026-07-16T07:30:00", "run", "--offline", "--pages", str(ARCHIVE))
    _cli(tmp_path, "2026-07-16T07:30:00", "subscribers", "add", "wes@example.org",
         "--topics", "everything", "--frequency", "weekly")  # fmt: skip
    dry = _cli(tmp_path, "2026-07-16T07:30:00", "emails", "--dry-run")
    assert dry.stdout.splitlines() == [
        # the week before settled before wes subscribed: not his (no backlog for a subscriber)
        "dry run: weekly edition 2026-W28: 0 of 1 weekly subscriber(s) would get a digest, "
        "7 paper(s), 0 topic set(s), largest HTML 0 bytes; settled",
        "dry run: weekly edition 2026-W29: waits, settles at 2026-07-20 06:00 UTC",
    ]
    sent = _cli(tmp_path, "2026-07-16T07:30:00", "emails", "--week", "2026-W29")
    assert sent.stdout.startswith("weekly edition 2026-W29: ")
    assert _eml(tmp_path) == ["2026-W29"]
    monday = _cli(tmp_path, "2026-07-20T07:30:00", "run", "--offline")
    assert _emails_lines(monday) == [  # W29 went on request; W28 settled before wes came
        "emails: 0 sent for 0 edition(s); 1 edition(s) had no recipient"
    ]
    bad = _cli(tmp_path, "2026-07-20T07:30:00", "emails", "--week", "2026-W99")
    assert bad.exit_code == 1 and "'2026-W99' is not an ISO week like 2026-W05" in bad.stderr
    empty = _cli(tmp_path, "2026-07-20T07:30:00", "emails", "--edition", "2026-07-14")
    assert empty.exit_code == 1 and "no edition 2026-07-14 in the store" in empty.stderr


def test_a_message_lists_what_was_frozen_even_if_the_day_grows_before_it_is_sent(
    engine: Engine, sink: tuple[Sink, int]
) -> None:
    from pipeline.config import SmtpTarget
    from pipeline.mail.send import prepare_edition, send_due
    from pipeline.mail.transports import SmtpTransport
    from pipeline.records import EditionRef
    from pipeline.store.engine import write_session
    from pipeline.store.papers import upsert_page
    from tests.email_support import make_job, page, subscribe

    box, port = sink
    now = at("2026-08-21T07:30:00")
    job = make_job(topics=EVERYTHING)
    papers = [(f"Paper {n}", f"abstract {n}", f"2608.{n:05d}") for n in range(1, 13)]
    with write_session(engine) as session:
        upsert_page(session=session, page=page(D, papers[:10]), now=now)
    subscribe(engine, now, {"ann@example.org": ["everything"]})
    edition, report = prepare_edition(engine=engine, day=EditionRef.daily(D), job=job, now=now)
    assert report.froze and report.planned == 1 and len(edition.new) == 10
    with write_session(engine) as session:  # two more papers reach D before the row is sent
        upsert_page(session=session, page=page(D, papers), now=now)
    transport = SmtpTransport(SmtpTarget("127.0.0.1", port, "", "", False, False), timeout=5)
    send_due(engine=engine, edition=edition, report=report, job=job, transport=transport,
             clock=fixed_clock(now))  # fmt: skip
    assert sections(box.messages[0]) == {"New": [t for t, _a, _x in papers[:10]]}
    with write_session(engine) as session:
        upsert_page(session=session, page=page(D1, [("Next day", "x", "2608.99999")]), now=now)
    later, _report = prepare_edition(engine=engine, day=D1, job=job, now=now)
    assert [(item.listed_on, item.paper.title) for item in later.late] == [
        (D, "Paper 11"),
        (D, "Paper 12"),
    ]


@pytest.mark.timeout(120)
def test_a_change_of_frequency_starts_on_the_next_monday_so_no_day_is_mailed_twice(
    tmp_path: Path, engine: Engine, sink: tuple[Sink, int]
) -> None:
    box, port = sink
    site = Installation(tmp_path, engine, port)
    thursday = site.paperboy(at("2026-08-20T10:00:00"))
    ada, _how = thursday.add_subscriber("ada@example.org", ["everything"], frequency="weekly")
    cy, _how = thursday.add_subscriber(WEEKLY, ["everything"], frequency="daily")
    assert (ada.frequency_on(D), ada.frequency_on(date(2026, 8, 24))) == ("daily", "weekly")
    assert (cy.frequency_on(D), cy.frequency_on(date(2026, 8, 24))) == ("weekly", "daily")
    site.run("2026-08-21T07:30:00", {D: 15, D1: 17})
    site.run("2026-08-22T07:30:00")
    site.run("2026-08-24T07:30:00")  # W34's weekly edition; daily editions from now on for cy
    got = {person: [str(m["Subject"]).split(":")[0] for m in _to(box, person)]
           for person in (*DAILY, WEEKLY)}  # fmt: skip
    assert got == {
        "ada@example.org": ["paperboy 2026-08-20", "paperboy 2026-08-21"],  # daily all week
        "bob@example.org": ["paperboy 2026-08-20", "paperboy 2026-08-21"],
        WEEKLY: ["paperboy week 2026-W34"],  # weekly for the week it asked in
    }


@pytest.mark.slow
@pytest.mark.timeout(180)
@pytest.mark.parametrize("point", ["before_plan_commit", "after_claim", "after_send"])
def test_kill_while_mailing_late_papers_loses_and_repeats_nothing(
    tmp_path: Path, point: str
) -> None:
    """A real ``python -m pipeline run`` killed (exit 137) at each step of mailing the edition
    that carries late papers; the rerun mails each paper once (or reports one uncertain)."""
    import os
    import subprocess
    import sys
    from email import message_from_bytes, policy

    repo = Path(__file__).resolve().parents[1]
    pages = tmp_path / "pages"
    pages.mkdir()

    def serve(day: date, count: int) -> None:
        (pages / f"{day}.json").write_text(json.dumps(RECORDED[day][:count]), encoding="utf-8")

    def run(now: str, failpoint: str = "") -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PAPERBOY_")}
        env.update(PYTHONPATH=str(repo), PAPERBOY_NOW=f"{now}+00:00",
                   PAPERBOY_CONFIG=str(tmp_path / "paperboy.toml"))  # fmt: skip
        if failpoint:
            env["PAPERBOY_FAILPOINT"] = failpoint
        return subprocess.run(
            [sys.executable, "-m", "pipeline", "run", "--offline", "--pages", str(pages)],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip

    _cli(tmp_path, "2026-08-20T09:00:00", "subscribers", "add", "ann@example.org",
         "--topics", "everything")  # fmt: skip
    serve(D, 10)
    assert run("2026-08-21T07:30:00").returncode == 0  # D's edition: 10 papers
    serve(D, 12)  # two papers reach D after its edition went out
    serve(D1, 17)
    killed = run("2026-08-22T07:30:00", failpoint=point)
    assert killed.returncode == 137, killed.stderr
    rerun = run("2026-08-22T08:30:00")  # after the 15-minute lease
    assert rerun.returncode == (1 if point != "before_plan_commit" else 0), rerun.stdout
    if point != "before_plan_commit":  # the message may or may not be out: 'uncertain'
        assert "1 message(s) uncertain" in rerun.stderr
    if point == "after_claim":  # never written: send it again, same Message-ID, same papers
        resent = _cli(tmp_path, "2026-08-22T09:00:00", "emails", "--resend-uncertain")
        assert resent.exit_code == 0 and "weekly" not in resent.stdout
    files = sorted((tmp_path / "out" / "outbox").rglob("*.eml"))
    assert [f.parent.name for f in files] == ["2026-08-20", "2026-08-21"]
    listed = [sections(message_from_bytes(f.read_bytes(), policy=policy.default))  # type: ignore[arg-type]
              for f in files]  # fmt: skip
    assert listed[0] == {"New": titles(D, 10)}
    assert listed[1] == {"New": titles(D1), "Added late": titles(D, 12)[10:]}


@pytest.mark.parametrize(("window_days", "late"), [(14, ["Paper 3"]), (2, [])])
def test_papers_added_to_a_day_older_than_the_window_are_not_mailed_as_late(
    engine: Engine, window_days: int, late: list[str]
) -> None:
    from pipeline.mail.send import prepare_edition
    from pipeline.store.engine import write_session
    from pipeline.store.papers import upsert_page
    from tests.email_support import make_job, page

    job = make_job(topics=EVERYTHING, window_days=window_days)
    papers = [(f"Paper {n}", "x", f"2608.{n:05d}") for n in range(1, 4)]
    with write_session(engine) as session:
        upsert_page(session=session, page=page(D, papers[:2]), now=at("2026-08-21T07:30:00"))
    prepare_edition(engine=engine, day=D, job=job, now=at("2026-08-21T07:30:00"))
    later = at("2026-08-24T07:30:00")  # D is 4 days back
    with write_session(engine) as session:  # an old page ingested by hand, one paper more
        upsert_page(session=session, page=page(D, papers), now=later)
        upsert_page(session=session, page=page(D1, [("Next", "x", "2608.99999")]), now=later)
    edition, _report = prepare_edition(engine=engine, day=D1, job=job, now=later)
    assert [item.paper.title for item in edition.late] == late
