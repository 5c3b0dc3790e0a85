"""fetch_source_date / ingest_source_date against MockTransport and a real SQLite store."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from pipeline.cli import cli
from pipeline.config import HttpConfig, SourceConfig
from pipeline.errors import FetchError, ParseError
from pipeline.ingest.sources import (
    API_PAGE_SIZE,
    Unchanged,
    api_url,
    fetch_source_date,
    ingest_source_date,
)
from pipeline.store.engine import read_session
from pipeline.store.papers import select_papers, store_counts
from tests.conftest import DATA
from tests.hf_support import FakeClock, Recorder, mock_client

HF = DATA / "hf"
BASE = "https://hf.test"
HTTP = HttpConfig(hf_base_url=BASE)
API = SourceConfig(name="hf-api", kind="hf-api")
HTML = SourceConfig(name="hf-html", kind="hf-html")
DAY = date(2026, 8, 21)


def _entries(ids: list[str], day: date = DAY) -> list[dict[str, object]]:
    stamp = f"{day.isoformat()}T00:00:00.000Z"
    return [
        {
            "paper": {
                "id": i,
                "title": f"Paper {i}",
                "summary": f"About {i}.",
                "upvotes": 1,
                "submittedOnDailyAt": stamp,
            },
            "title": f"Paper {i}",
        }
        for i in ids
    ]


def _ingest(handler, source=API, day=DAY, *, engine, now, clock=None):
    clock = clock or FakeClock()
    with mock_client(handler, HTTP) as client:
        return ingest_source_date(
            source,
            day,
            http=HTTP,
            client=client,
            engine=engine,
            now=now,
            sleep=clock.sleep,
            monotonic=clock,
        )


def _count(engine) -> dict[str, int]:
    with read_session(engine) as session:
        return store_counts(session=session)


def test_api_source_ingests_day_with_one_request(engine, now) -> None:  # H1
    body = (HF / "api-2026-08-21.json").read_bytes()
    recorder = Recorder([httpx.Response(500), httpx.Response(200, content=body)])
    report = _ingest(recorder, engine=engine, now=now)
    assert (report.papers, report.new, report.recurring) == (3, 3, 0)
    assert len(recorder.requests) == 2
    assert str(recorder.requests[0].url) == f"{BASE}/api/daily_papers?date=2026-08-21&limit=100"
    assert recorder.requests[0].headers["Accept"] == "application/json"


@pytest.mark.parametrize(
    ("response", "message"),
    [
        (httpx.Response(200, content=b'[{"paper": {"id": "26'), "truncated JSON"),
        (httpx.Response(200, json={"error": "x"}), "got an object"),
        (httpx.Response(200, html="<html>Just a moment...</html>"), "HTML served instead of JSON"),
        (httpx.Response(200, content=b"<!doctype html><p>x"), "HTML served instead of JSON"),
        (httpx.Response(200, content='["é"]'.encode("cp1252")), "JSON is not UTF-8"),
    ],
)
def test_api_source_bad_bodies_store_nothing(response, message, engine, now) -> None:  # H7
    with pytest.raises(ParseError, match=message):
        _ingest(Recorder([response]), engine=engine, now=now)
    assert _count(engine) == {"papers": 0, "digests": 0, "appearances": 0}


def test_api_source_json_with_bom(engine, now) -> None:  # H8
    body = b"\xef\xbb\xbf" + (HF / "api-2026-08-21.json").read_bytes()
    assert (
        _ingest(Recorder([httpx.Response(200, content=body)]), engine=engine, now=now).papers == 3
    )


def test_api_source_client_error_names_url_and_date(engine, now) -> None:  # H4
    recorder = Recorder([httpx.Response(400)])
    with pytest.raises(FetchError, match=r"date=2026-08-21.*HTTP 400 Bad Request$"):
        _ingest(recorder, engine=engine, now=now)
    assert len(recorder.requests) == 1


def test_api_source_304_is_unchanged(engine, now) -> None:  # H9
    body = (HF / "api-2026-08-21.json").read_bytes()
    first = Recorder([httpx.Response(200, content=body, headers={"ETag": '"d1"'})])
    _ingest(first, engine=engine, now=now)
    second = Recorder([httpx.Response(304)])
    report = _ingest(second, engine=engine, now=now + timedelta(hours=1))
    assert second.requests[0].headers["If-None-Match"] == '"d1"'
    assert (report.unchanged, report.papers, report.new) == (True, 3, 0)
    assert _count(engine)["appearances"] == 3


def test_failed_parse_does_not_store_validators(engine, now) -> None:
    bad = Recorder([httpx.Response(200, content=b"[{", headers={"ETag": '"bad"'})])
    with pytest.raises(ParseError):
        _ingest(bad, engine=engine, now=now)
    retry = Recorder([httpx.Response(200, json=[])])
    _ingest(retry, engine=engine, now=now)
    assert "If-None-Match" not in retry.requests[0].headers


def test_api_source_empty_day(engine, now) -> None:  # H10
    report = _ingest(Recorder([httpx.Response(200, json=[])]), engine=engine, now=now)
    assert (report.papers, report.new, report.unchanged) == (0, 0, False)
    assert _count(engine)["digests"] == 1


def test_api_source_growing_day_upserts_and_never_shrinks(engine, now) -> None:  # H11
    ten = [f"2608.{n:05d}" for n in range(10)]
    twelve = [*ten, "2608.20001", "2608.20002"]
    for ids, later in ((ten, 0), (twelve, 1), (ten[:8], 2)):
        response = httpx.Response(200, json=_entries(ids))
        _ingest(Recorder([response]), engine=engine, now=now + timedelta(hours=later))
    with read_session(engine) as session:
        papers = select_papers(session=session)
    assert len(papers) == 12
    assert {p.first_seen for p in papers} == {DAY}
    assert _count(engine)["appearances"] == 12


def test_api_source_pages_with_p_until_short_page(engine, now) -> None:
    full = [f"2608.{n:05d}" for n in range(API_PAGE_SIZE)]
    pages = {0: _entries(full), 1: _entries(["2608.30001", "2608.30002"])}

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=pages[int(request.url.params.get("p", "0"))])

    report = _ingest(handler, engine=engine, now=now)
    assert report.papers == API_PAGE_SIZE + 2


def test_api_source_stops_when_server_ignores_p(engine, now) -> None:
    full = _entries([f"2608.{n:05d}" for n in range(API_PAGE_SIZE)])
    recorder = Recorder([httpx.Response(200, json=full)])
    assert _ingest(recorder, engine=engine, now=now).papers == API_PAGE_SIZE
    assert len(recorder.requests) == 2


def test_rate_limit_over_cap_is_deferred_and_remembered(engine, now) -> None:  # H2
    limited = Recorder([httpx.Response(429, headers={"Retry-After": "3600"})])
    clock = FakeClock()
    with pytest.raises(FetchError) as info:
        _ingest(limited, engine=engine, now=now, clock=clock)
    assert info.value.deferred_until == now + timedelta(hours=1)
    assert clock.sleeps == []
    again = Recorder([httpx.Response(200, json=[])])
    with pytest.raises(FetchError, match="deferred until 2026-11-23 07:00:00 UTC"):
        _ingest(again, engine=engine, now=now + timedelta(minutes=5))
    assert again.requests == []
    assert _ingest(again, engine=engine, now=now + timedelta(hours=2)).papers == 0


def test_other_sources_complete_after_one_is_deferred(engine, now) -> None:  # H2
    with pytest.raises(FetchError):
        _ingest(
            Recorder([httpx.Response(429, headers={"RateLimit": '"api";r=0;t=900'})]),
            engine=engine,
            now=now,
        )
    page = (HF / "page-2026-08-21.html").read_bytes()
    report = _ingest(Recorder([httpx.Response(200, content=page)]), HTML, engine=engine, now=now)
    assert report.papers == 3


def test_html_source_reads_page_and_reports_clamp(engine, now) -> None:
    page = (HF / "page-2026-08-21.html").read_bytes()
    recorder = Recorder([httpx.Response(200, content=page, headers={"Content-Type": "text/html"})])
    assert _ingest(recorder, HTML, engine=engine, now=now).new == 3
    assert str(recorder.requests[0].url) == f"{BASE}/papers/date/2026-08-21"
    with pytest.raises(ParseError, match="page shows 2026-08-21, not 2026-08-22"):
        _ingest(
            Recorder([httpx.Response(200, content=page)]),
            HTML,
            date(2026, 8, 22),
            engine=engine,
            now=now,
        )


def test_html_source_cp1252_declared_in_meta_only(engine, now) -> None:  # H8
    entry = {"paper": {"id": "2608.00001", "title": "t", "summary": "s"}, "title": "Résumé naïve"}
    props = json.dumps({"dateString": "2026-08-21", "dailyPapers": [entry]}, ensure_ascii=False)
    props = props.replace("&", "&amp;").replace('"', "&quot;")
    page = (
        '<html><head><meta charset="windows-1252"></head><body>'
        f'<div data-target="DailyPapers" data-props="{props}"></div></body></html>'
    ).encode("cp1252")
    _ingest(Recorder([httpx.Response(200, content=page)]), HTML, engine=engine, now=now)
    with read_session(engine) as session:
        assert [p.title for p in select_papers(session=session)] == ["Résumé naïve"]


def test_html_source_layout_change_stores_nothing(engine, now) -> None:  # H7
    page = (HF / "page-cards-only.html").read_bytes()
    with pytest.raises(ParseError, match="no DailyPapers data"):
        _ingest(Recorder([httpx.Response(200, content=page)]), HTML, engine=engine, now=now)
    assert _count(engine)["papers"] == 0


def test_files_source_reads_page_named_with_date(tmp_path: Path, engine, now) -> None:
    (tmp_path / "2026-08-21.json").write_bytes((HF / "api-2026-08-21.json").read_bytes())
    source = SourceConfig(name="saved", kind="files", path=tmp_path)
    result = fetch_source_date(
        source, DAY, http=HTTP, client=httpx.Client(), engine=engine, now=now
    )
    assert not isinstance(result, Unchanged)
    assert len(result.page.papers) == 3
    with pytest.raises(
        ParseError, match="expected one saved page named with 2026-08-22, found none"
    ):
        fetch_source_date(
            source, DAY + timedelta(1), http=HTTP, client=httpx.Client(), engine=engine, now=now
        )


def test_week_of_recorded_days(engine, now) -> None:
    files = sorted((HF / "week").glob("*.json"))
    assert len(files) == 7
    days = {date.fromisoformat(f.stem): json.loads(f.read_text(encoding="utf-8")) for f in files}
    expected, seen = {}, set()
    for day in sorted(days):
        ids = {e["paper"]["id"] for e in days[day]}
        expected[day] = (len(ids), len(ids - seen), len(ids & seen))
        seen |= ids

    def handler(request: httpx.Request) -> httpx.Response:
        day = date.fromisoformat(request.url.params["date"])
        return httpx.Response(200, json=days[day])

    got = {}
    for day in sorted(days):
        report = _ingest(handler, day=day, engine=engine, now=now)
        got[day] = (report.papers, report.new, report.recurring)
    assert got == expected
    assert sum(r for _, _, r in got.values()) == 2  # 2608.12313 and 2608.13558 came back
    assert api_url(BASE, DAY, 2).endswith("&p=2")


def test_cli_fetch_prints_page_line(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "pages").mkdir()
    (tmp_path / "pages" / "2026-08-21.json").write_bytes((HF / "api-2026-08-21.json").read_bytes())
    config = tmp_path / "paperboy.toml"
    config.write_text('[[sources]]\nname = "saved"\nkind = "files"\npath = "pages"\n')
    runner = CliRunner()
    result = runner.invoke(cli, ["--config", str(config), "fetch", "saved", "--date", "2026-08-21"])
    assert result.exit_code == 0, result.output
    assert result.output.endswith(
        "2026-08-21: 3 paper(s) (3 new that day, 0 recurring); 3 added to the store, "
        "0 already stored\n"
    )
    again = runner.invoke(cli, ["--config", str(config), "fetch", "saved", "--date", "2026-08-21"])
    assert again.output.endswith("2026-08-21: unchanged, 3 paper(s) already stored\n")
    result = runner.invoke(cli, ["--config", str(config), "fetch", "nope", "--date", "2026-08-21"])
    assert result.exit_code == 1
    assert "no source named 'nope' (sources: saved; built in: hf-api, hf-html)" in result.output
    result = runner.invoke(cli, ["--config", str(config), "fetch", "saved", "--date", "2026-08-22"])
    assert result.exit_code == 1
    assert result.output.startswith("Error: saved 2026-08-22: ")
