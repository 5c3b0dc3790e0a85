"""The daily job end to end: catch-up over missed days, feeds, failures, idempotent reruns."""

from __future__ import annotations

import json
import threading
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from click.testing import CliRunner
from freezegun import freeze_time
from sqlalchemy import Engine

from pipeline.app import Paperboy
from pipeline.cli import cli
from pipeline.clock import fixed_clock
from pipeline.config import Config
from pipeline.run import dates_to_fetch, run_once
from pipeline.store.engine import read_session
from pipeline.store.integrity import check_store
from pipeline.topics import load_topics, topics_file
from tests.conftest import DATA, SAMPLES, make_config
from tests.hf_support import FakeClock, mock_client

WEEK = {
    date.fromisoformat(f.stem): json.loads(f.read_text(encoding="utf-8"))
    for f in sorted((DATA / "hf" / "week").glob("*.json"))
}
TOPICS = load_topics(topics_file(None))


def at(day: str) -> datetime:
    return datetime.fromisoformat(f"{day}T09:00:00").replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("have", "today", "max_days", "expected"),
    [
        ([], "20", 3, ["18", "19", "20"]),  # a fresh store: the whole window
        (["10", "17"], "20", 5, ["16", "17", "18", "19", "20"]),  # missed days + the last
        (["10", "17"], "20", 2, ["19", "20"]),  # bounded
        (["16", "18"], "20", 5, ["17", "18", "19", "20"]),  # a day that failed is retried
        (["18", "19", "20"], "20", 3, ["19", "20"]),  # up to date: yesterday and today again
        (["25"], "20", 3, ["18", "19", "20"]),  # clock moved backwards: missing days only
    ],
)
def test_dates_to_fetch(have: list[str], today: str, max_days: int, expected: list[str]) -> None:
    def day(d: str) -> date:
        return date(2026, 8, int(d))

    stored = {day(d) for d in have}
    got = dates_to_fetch(stored, max(stored, default=None), day(today), max_days=max_days)
    assert got == [day(d) for d in expected]


class Api:
    """A MockTransport handler serving the recorded week by ?date=, recording requests."""

    def __init__(self, fail: set[date] | None = None, partial: dict[date, int] | None = None):
        self.fail = fail or set()
        self.partial = partial or {}  # a day's list as read while it was still growing
        self.dates: list[date] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        day = date.fromisoformat(request.url.params["date"])
        self.dates.append(day)
        if day in self.fail:
            return httpx.Response(503, text="down")
        if request.url.params.get("p", "0") != "0":
            return httpx.Response(200, json=[])
        return httpx.Response(200, json=WEEK.get(day, [])[: self.partial.get(day)])


def config(tmp_path: Path, **ingest: int) -> Config:
    return make_config(
        tmp_path,
        ingest={"catch_up_max_days": 14, **ingest},
        output={"site_url": "https://papers.example.org/"},
        http={"retries": 1},
    )


def run(cfg: Config, engine: Engine, api: Api, day: str):  # type: ignore[no-untyped-def]
    clock = FakeClock()
    with mock_client(api, cfg.http) as client:
        pb = Paperboy(cfg, engine=engine, clock=fixed_clock(at(day)), topics=TOPICS)
        return run_once(pb, client=client, sleep=clock.sleep)


def expected_counts(days: list[date]) -> dict[date, tuple[int, int, int]]:
    """(papers, new, recurring) per day, computed from the recorded ids alone."""
    seen: set[str] = set()
    counts = {}
    for day in sorted(WEEK):
        ids = {entry["paper"]["id"] for entry in WEEK[day]}
        if day in days:
            counts[day] = (len(ids), len(ids - seen), len(ids & seen))
        seen |= ids
    return counts


def test_three_missed_days_are_caught_up_in_one_run(tmp_path: Path, engine: Engine) -> None:
    cfg = config(tmp_path)
    api = Api()
    first = run(cfg, engine, api, "2026-08-13")
    assert first.ok and [p.listing_date for p in first.pages][-1] == date(2026, 8, 13)
    api.dates.clear()
    report = run(cfg, engine, api, "2026-08-17")  # down from the 14th to the 16th
    assert report.ok, report.failures
    days = [date(2026, 8, d) for d in (13, 14, 15, 16, 17)]
    assert sorted(set(api.dates)) == days  # the last ingested day is fetched again
    got = {p.listing_date: (p.papers, p.new, p.recurring) for p in report.pages}
    recorded = expected_counts(days)
    assert got[date(2026, 8, 14)] == recorded[date(2026, 8, 14)]
    assert got[date(2026, 8, 17)] == recorded[date(2026, 8, 17)]
    assert got[date(2026, 8, 15)] == got[date(2026, 8, 16)] == (0, 0, 0)  # a weekend: empty days
    assert [p.listing_date for p in report.pages] == days  # in date order
    assert report.editions == (
        date(2026, 8, 14),
        date(2026, 8, 15),
        date(2026, 8, 16),
        date(2026, 8, 17),
    )
    assert report.feeds is not None and report.feeds.written


def test_last_day_with_papers_is_fetched_again_past_empty_days(
    tmp_path: Path, engine: Engine
) -> None:
    # Friday's list read early (3 papers), then an empty weekend: Monday's run fetches Friday
    # again (it was the last day with papers), not only the recent days
    cfg = config(tmp_path)
    friday = date(2026, 8, 14)
    run(cfg, engine, Api(partial={friday: 3}), "2026-08-16")
    api = Api()
    report = run(cfg, engine, api, "2026-08-17")
    assert friday in api.dates
    whole = {entry["paper"]["id"] for entry in WEEK[friday]}
    assert {p.listing_date: p.papers for p in report.pages}[friday] == len(whole)
    with read_session(engine) as session:
        assert check_store(session=session) == []


def test_catch_up_is_bounded_and_says_so(tmp_path: Path, engine: Engine) -> None:
    cfg = config(tmp_path, catch_up_max_days=2)
    api = Api()
    run(cfg, engine, api, "2026-08-13")
    api.dates.clear()
    report = run(cfg, engine, api, "2026-08-18")
    assert sorted(set(api.dates)) == [date(2026, 8, 17), date(2026, 8, 18)]
    assert report.notes == (
        "source hf-daily: 3 older missed day(s) not fetched (catch_up_max_days = 2)",
    )


def test_failing_date_does_not_stop_the_others_and_rerun_changes_nothing(
    tmp_path: Path, engine: Engine
) -> None:
    cfg = config(tmp_path, catch_up_max_days=3)
    report = run(cfg, engine, Api(fail={date(2026, 8, 19)}), "2026-08-20")
    assert not report.ok
    assert [f.origin for f in report.failures] == ["hf-daily 2026-08-19"]
    assert "503" in report.failures[0].message
    assert [p.listing_date for p in report.pages] == [date(2026, 8, 18), date(2026, 8, 20)]
    assert report.feeds is not None and report.feeds.written  # delivered what succeeded
    healed = run(cfg, engine, Api(), "2026-08-20")
    assert healed.ok
    assert {p.listing_date: p.unchanged for p in healed.pages} == {
        date(2026, 8, 19): False,  # the failed day is fetched again, the 18th is not
        date(2026, 8, 20): True,
    }
    again = run(cfg, engine, Api(), "2026-08-20")
    assert again.editions == ()
    assert again.feeds is not None and again.feeds.written == ()  # byte-identical feeds


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        query = parse_qs(urlsplit(self.path).query)
        day = date.fromisoformat(query["date"][0])
        if day == date(2026, 8, 19) or query.get("p", ["0"])[0] != "0":
            body, status = (b"[]", 200) if day != date(2026, 8, 19) else (b"gone", 404)
        else:
            body, status = json.dumps(WEEK.get(day, [])).encode(), 200
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_cli_run_against_local_server_exits_1_after_delivering(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        monkeypatch.setenv("PAPERBOY_HF_BASE_URL", f"http://127.0.0.1:{server.server_port}")
        monkeypatch.delenv("PAPERBOY_CONFIG", raising=False)
        config_file = tmp_path / "paperboy.toml"
        config_file.write_text(
            "[ingest]\ncatch_up_max_days = 2\n[http]\nallow_private_hosts = true\n",
            encoding="utf-8",
        )
        with freeze_time("2026-08-20 09:00:00"):
            result = CliRunner().invoke(cli, ["--config", str(config_file), "run"])
    finally:
        server.shutdown()
        server.server_close()
    assert result.exit_code == 1
    assert "Error: hf-daily 2026-08-19: " in result.stderr and "404" in result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("ingested http://127.0.0.1:")
    assert "2026-08-20: 15 paper(s) (15 new that day" in lines[0]
    assert lines[-1] == "run done: 1 page(s) read, 1 changed, 15 paper(s) added, 1 error(s)"
    assert (tmp_path / "out" / "feeds" / "all.xml").exists()


def test_second_run_same_day_sends_nothing_and_changes_no_feed_byte(
    tmp_path: Path, engine: Engine
) -> None:
    """What the DST fall-back double fire (or cron + scheduler overlap) does: nothing."""
    from pipeline.store.engine import write_session
    from pipeline.store.subscribers import add_subscriber

    cfg = config(tmp_path, catch_up_max_days=2)
    with write_session(engine) as session:
        for address in ("ada@example.org", "bob@example.org"):
            chosen = [t.slug for t in TOPICS]
            add_subscriber(
                session=session,
                email=address,
                topics=chosen,
                secret=b"s" * 32,
                now=at("2026-08-13"),  # before the editions settle
            )
    first = run(cfg, engine, Api(), "2026-08-20")
    assert first.ok, first.failures
    sent = sorted((tmp_path / "out" / "outbox").rglob("*.eml"))
    # the 20th's list is still growing at 09:00 on the 20th: only the 19th is mailed
    assert {e.edition: e.outcomes.get("sent", 0) for e in first.emails} == {
        date(2026, 8, 19): 2,
    }
    feeds = {p: p.read_bytes() for p in (tmp_path / "out" / "feeds").iterdir()}
    mtimes = {p: p.stat().st_mtime_ns for p in feeds}
    second = run(cfg, engine, Api(), "2026-08-20")
    assert second.ok and second.emails == () and second.editions == ()
    assert second.email_note == "nothing due: edition 2026-08-20 settles at 2026-08-21 06:00 UTC"
    assert sorted((tmp_path / "out" / "outbox").rglob("*.eml")) == sent
    assert {p: p.read_bytes() for p in feeds} == feeds
    assert {p: p.stat().st_mtime_ns for p in feeds} == mtimes


def _hanging(conn) -> None:  # accepts, reads the request, never answers
    import time

    time.sleep(5)


@pytest.mark.parametrize("fault", ["hang", "refused"])
def test_unreachable_source_costs_one_deadline_per_run_and_one_line(
    tmp_path: Path, engine: Engine, fault: str
) -> None:
    """Issue 15.7: a hanging source cost a full deadline per catch-up day (28 minutes with the
    defaults) and printed one identical error per day. Now: one deadline, one line naming the
    cause, the other days skipped for this run (the next run tries them again), the other
    sources ingested."""
    import time

    from tests.hf_support import raw_server

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "2026-08-19.json").write_text(json.dumps(WEEK[date(2026, 8, 19)]), encoding="utf-8")
    with raw_server(_hanging) as url:
        if fault == "refused":
            from tests.email_support import free_port

            url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
        cfg = make_config(
            tmp_path,
            ingest={"catch_up_max_days": 5},
            http={"hf_base_url": url, "allow_private_hosts": True, "timeout": 3.0,
                  "deadline": 1.0, "retries": 1},
            sources=[{"name": "hf-daily", "kind": "hf-api"},
                     {"name": "inbox", "kind": "files", "path": "inbox"}],
        )  # fmt: skip
        pb = Paperboy(cfg, engine=engine, clock=fixed_clock(at("2026-08-20")), topics=TOPICS)
        started = time.monotonic()
        report = run_once(pb, sleep=lambda _s: None)
        took = time.monotonic() - started
    assert took < 4.0  # one deadline (1 s) plus the rest of the run, not five
    [failure] = report.failures
    assert failure.origin == "hf-daily"
    cause = "deadline" if fault == "hang" else "ConnectError"
    assert cause in failure.message
    assert failure.message.endswith(
        "source skipped for this run: 5 day(s) not fetched (2026-08-16 to 2026-08-20)"
    )
    assert [p.source for p in report.pages] == ["inbox"]


def test_missing_files_folder_is_an_error_not_a_note(tmp_path: Path, engine: Engine) -> None:
    """Issue 15.10: a missing `files` source folder counted as no error and exited 0."""
    cfg = make_config(
        tmp_path, sources=[{"name": "inbox", "kind": "files", "path": "no-such-folder"}]
    )
    pb = Paperboy(cfg, engine=engine, clock=fixed_clock(at("2026-08-20")), topics=TOPICS)
    report = run_once(pb)
    assert not report.ok
    [failure] = report.failures
    assert failure.origin == "inbox"
    assert failure.message == (
        f"folder {tmp_path / 'no-such-folder'} not found: create it or fix [[sources]] path"
    )


def test_cli_rerun_is_quiet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 15.10: a run that changed nothing says so in one line (cron mails any output)."""
    monkeypatch.chdir(tmp_path)
    for name in ("PAPERBOY_CONFIG", "PAPERBOY_DATABASE_URL", "PAPERBOY_OUTPUT_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PAPERBOY_NOW", "2026-11-23T08:00:00+00:00")
    runner = CliRunner()
    first = runner.invoke(cli, ["run", "--offline", "--pages", str(SAMPLES)])
    assert first.exit_code == 0, first.output
    assert first.stdout.splitlines()[-1] == (
        "run done: 3 page(s) read, 3 changed, 157 paper(s) added, 0 error(s)"
    )
    again = runner.invoke(cli, ["run", "--offline", "--pages", str(SAMPLES)])
    assert again.exit_code == 0
    assert again.stdout == "run done: 3 page(s) read, nothing changed, 0 error(s)\n"
    assert again.stderr == "offline: skipped hf-daily\n"
