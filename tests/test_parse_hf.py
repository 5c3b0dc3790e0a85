"""Hugging Face API/HTML parsers, saved-page detection, and the real archive files."""

from __future__ import annotations

import html
import json
import os
from datetime import date
from pathlib import Path

import pytest

from pipeline.errors import ParseError
from pipeline.ingest.parse import detect_format, parse_saved_page
from pipeline.ingest.parse.charset import decode_html_bytes, decode_json_bytes
from pipeline.ingest.parse.hf_api import parse_api_json
from pipeline.ingest.parse.hf_html import parse_daily_html
from pipeline.ingest.saved_pages import ingest_files
from pipeline.records import Page
from pipeline.store.engine import read_session, write_session
from pipeline.store.papers import select_papers, upsert_page
from tests.conftest import DATA, text_page

HF = DATA / "hf"
# A byte-exact subset of the real archive (tests/data/hf/README.md); the whole archive (85 files)
# is parsed too when PAPERBOY_HF_ARCHIVE names its folder.
SHIPPED_ARCHIVE = HF / "archive"
ARCHIVE_ENV = "PAPERBOY_HF_ARCHIVE"
MALFORMED = {"2024-12-11.json", "2025-01-10.json"}  # the collector's two defects (hf-formats §2.8)
DAY = date(2026, 8, 21)


def _api(text: str, day: date = DAY, **kwargs: object) -> Page:
    return parse_api_json(text, origin="u", source="hf-api", listing_date=day, **kwargs)


def test_parse_api_json_reads_fields() -> None:
    page = _api((HF / "api-2026-08-21.json").read_text(encoding="utf-8"))
    first = page.papers[0]
    assert [p.arxiv_id for p in page.papers] == ["2608.19880", "2608.18580", "2608.20335"]
    assert first.title == "EnvHarness: Awakening Static Worlds for Agent Learning"
    assert first.abstract.startswith("LLM agents learn by interacting with environments")
    assert first.authors[0] == "Chengsong Huang"
    assert first.upvotes == 163
    assert "EnvRigger" in first.keywords
    assert first.links[:2] == (
        "https://github.com/google-research/envharness",
        "https://envharness.com/",
    )
    assert [p.rank for p in page.papers] == [1, 2, 3]
    assert page.listing_date == DAY


def test_parse_api_json_normalises_hard_wraps() -> None:
    page = _api((HF / "api-2025-03-18.json").read_text(encoding="utf-8"), date(2025, 3, 18))
    assert page.papers[0].title == (
        "Being-0: A Humanoid Robotic Agent with Vision-Language Models and Modular Skills"
    )
    assert "\n" not in page.papers[0].abstract


def _entry(paper_id: object = "2503.02130", **paper: object) -> dict[str, object]:
    body = {"id": paper_id, "title": "A Title", "summary": "See https://x.org/a.", **paper}
    return {"paper": body, "title": "A  Title\n  wrapped"}


def test_parse_api_json_keeps_ids_as_strings_and_links_from_abstract() -> None:
    page = _api(
        json.dumps(
            [_entry(authors=[{"name": "A", "hidden": False}, {"name": "B", "hidden": True}])]
        )
    )
    paper = page.papers[0]
    assert paper.arxiv_id == "2503.02130"
    assert paper.title == "A Title wrapped"
    assert paper.links == ("https://x.org/a",)
    assert paper.authors == ("A",)


def test_parse_api_json_keeps_what_the_api_gives() -> None:
    """Upvotes, comments, AI summary, code repository and stars, project page (hf-formats §2)."""
    path = SHIPPED_ARCHIVE / "Paper_metadata_download" / "2026-07-09.json"
    page = _api(path.read_text(encoding="utf-8"), date(2026, 7, 9), lenient=True)
    first = page.papers[0]
    assert first.arxiv_id == "2607.07708"
    assert (first.upvotes, first.comments, first.github_stars) == (60, 1, 1)
    assert first.github_repo == "https://github.com/SpectrAI-Initiative/SciReasoner"
    assert first.project_page == "https://scireasoner.github.io"
    assert first.ai_summary is not None
    assert first.ai_summary.startswith("SciReasoner is a multimodal scientific foundation model")
    assert first.hf_id is None  # an arXiv paper links by its arXiv id
    assert all(p.upvotes is not None and p.comments is not None for p in page.papers)
    assert all(p.ai_summary for p in page.papers)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(7, 7), (0, 0), (-1, None), (True, None), ("7", None), (7.0, None), (2**40, None)],
)
def test_parse_api_json_counts_must_be_plain_non_negative_ints(value, expected) -> None:
    entry = {**_entry(upvotes=value, githubStars=value), "numComments": value}
    paper = _api(json.dumps([entry])).papers[0]
    assert (paper.upvotes, paper.github_stars, paper.comments) == (expected,) * 3


@pytest.mark.parametrize(
    ("url", "kept"),
    [
        ("https://github.com/a/b", "https://github.com/a/b"),
        ("  http://example.org/p  ", "http://example.org/p"),
        ("javascript:alert(1)", None),
        ("https://github.com/a/b c", None),
        ("https://x.org/\nInjected: 1", None),
        (42, None),
    ],
)
def test_parse_api_json_keeps_only_web_links_for_code_and_project(url, kept) -> None:
    paper = _api(json.dumps([_entry(githubRepo=url, projectPage=url)])).papers[0]
    assert (paper.github_repo, paper.project_page) == (kept, kept)


def test_parse_api_json_paper_without_arxiv_id_gets_a_checked_hf_id() -> None:
    """Issue 15 item 11: the id goes into the Hugging Face URL only if it is URL-safe, and the
    page is not a 'link' of the paper (it was labelled 'Code')."""
    entries = [
        {"paper": {"id": "hf-paper_1.2", "title": "Not On arXiv", "summary": "S."}},
        {"paper": {"id": "../x?<b>", "title": "Hostile Id", "summary": "S."}},
    ]
    safe, hostile = _api(json.dumps(entries)).papers
    assert (safe.arxiv_id, safe.hf_id, safe.links) == (None, "hf-paper_1.2", ())
    assert (hostile.arxiv_id, hostile.hf_id, hostile.links) == (None, None, ())


def test_parse_api_json_caps_ai_summary_and_drops_empty_one() -> None:
    long, empty = _entry(ai_summary="word " * 1000), _entry("2503.02131", ai_summary="  \n ")
    first, second = _api(json.dumps([long, empty])).papers
    assert first.ai_summary is not None and len(first.ai_summary) <= 1_000
    assert second.ai_summary is None


def test_parse_api_json_empty_day_is_valid() -> None:
    page = _api("[]")
    assert page.papers == ()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[{"paper": {"id": "2608.1', "truncated JSON"),
        ('[{"paper": {"id": "2608.19880", "title": "x"}}, {', "truncated JSON"),
        ('{"error": "Invalid date"}', "expected a JSON list of entries, got an object"),
        ("<!DOCTYPE html><html>challenge</html>", "HTML served instead of JSON"),
        ('[{"paper": {"title": "T", "summary": ""}}]', "entry 1 has no paper.id"),
        (
            '[{"paper": {"id": "2608.19880", "summary": ""}}]',
            r"entry 1 \(2608.19880\) has no title",
        ),
        ('[{"paper": {"id": 2503.0213, "title": "T"}}]', "is a number, expected a string"),
        ("[\"{'paper': {}}\"]", "is a string, not an object"),
        ("", "empty response"),
        ("[1, 2", "truncated JSON"),
        ("[1 2]", "invalid JSON at line 1"),
    ],
)
def test_parse_api_json_rejects_bad_input(text: str, message: str) -> None:
    with pytest.raises(ParseError, match=message) as info:
        _api(text)
    assert info.value.source == "u"


def test_parse_api_json_refuses_entries_of_another_day() -> None:
    stamped = _entry(submittedOnDailyAt="2026-08-20T00:00:00.000Z")
    with pytest.raises(ParseError, match="entries are listed on 2026-08-20, not 2026-08-21"):
        _api(json.dumps([stamped]))


def test_parse_api_json_lenient_reads_collector_defects() -> None:
    entry = {"paper": {"id": "2501.05441", "title": "T", "summary": "S", "upvotes": 3}}
    wrapped = json.dumps({"status": "success", "date": "2026-08-21", "data": [repr(entry)]})
    assert _api(wrapped, lenient=True).papers[0].arxiv_id == "2501.05441"
    with pytest.raises(ParseError, match="wrapper says date 2026-08-20"):
        _api(wrapped.replace("2026-08-21", "2026-08-20"), lenient=True)
    evil = json.dumps(["__import__('os').system('echo hi')"])
    with pytest.raises(ParseError, match="neither an object nor a Python repr"):
        _api(evil, lenient=True)


def test_parse_daily_html_reads_embedded_json() -> None:
    text = (HF / "page-2026-08-21.html").read_text(encoding="utf-8")
    page = parse_daily_html(text, origin="p", source="hf-html", listing_date=DAY)
    api = _api((HF / "api-2026-08-21.json").read_text(encoding="utf-8"))
    assert page.papers == api.papers
    assert page.content_hash == api.content_hash


def test_parse_daily_html_keeps_the_same_metadata_as_the_api() -> None:
    """The page embeds the API's entries (docs/hf-formats.md §4.1): the same values come out."""
    from_html = parse_daily_html(
        (HF / "page-2026-08-21.html").read_text(encoding="utf-8"), origin="p", source="hf-html"
    ).papers
    from_api = _api((HF / "api-2026-08-21.json").read_text(encoding="utf-8")).papers
    fields = ("upvotes", "comments", "github_repo", "project_page", "ai_summary", "hf_id")
    assert [[getattr(p, f) for f in fields] for p in from_html] == [
        [getattr(p, f) for f in fields] for p in from_api
    ]
    assert from_html[0].upvotes == 163 and from_html[0].comments == 1


def test_parse_daily_html_reports_clamped_date() -> None:
    text = (HF / "page-2026-08-21.html").read_text(encoding="utf-8")
    with pytest.raises(ParseError, match="page shows 2026-08-21, not 2026-08-23"):
        parse_daily_html(text, origin="p", source="hf-html", listing_date=date(2026, 8, 23))


def test_parse_daily_html_refuses_cards_without_anchor() -> None:
    text = (HF / "page-cards-only.html").read_text(encoding="utf-8")
    with pytest.raises(ParseError, match="3 paper cards found, but cards carry no abstracts"):
        parse_daily_html(text, origin="p", source="hf-html", listing_date=DAY)
    with pytest.raises(ParseError, match="not a daily papers page"):
        parse_daily_html("<html><body>hi</body></html>", origin="p", source="s")


def _page_with(props: object) -> str:
    escaped = html.escape(json.dumps(props, ensure_ascii=False), quote=True)
    return f'<html><body><div data-target="DailyPapers" data-props="{escaped}"></div></body></html>'


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"dateString": "2026-08-21"}, "no dailyPapers list"),
        ({"dailyPapers": []}, "no readable dateString"),
        ({"dailyPapers": [], "dateString": "2026-08-21", "periodType": "week"}, "lists a week"),
    ],
)
def test_parse_daily_html_rejects_changed_layout(props: object, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        parse_daily_html(_page_with(props), origin="p", source="s", listing_date=DAY)


def test_decode_html_bytes_uses_meta_charset() -> None:
    entry = {
        "paper": {"id": "2608.00001", "title": "x", "summary": "Ça va"},
        "title": "Résumé — naïve",
    }
    page = _page_with({"dateString": "2026-08-21", "dailyPapers": [entry]})
    page = page.replace("<html>", '<html><head><meta charset="windows-1252"></head>')
    text = decode_html_bytes(page.encode("cp1252"), header_charset=None, origin="p")
    parsed = parse_daily_html(text, origin="p", source="s", listing_date=DAY)
    assert (parsed.papers[0].title, parsed.papers[0].abstract) == ("Résumé — naïve", "Ça va")
    # the header charset wins over <meta>, as in browsers
    assert "R\u00c3" in decode_html_bytes("Ré".encode(), header_charset="latin-1", origin="p")


def test_decode_html_bytes_refuses_wrong_charset() -> None:
    body = ("<html>" + "é" * 200 + "</html>").encode("cp1252")
    with pytest.raises(ParseError, match="undecodable characters"):
        decode_html_bytes(body, header_charset="utf-8", origin="p")


def test_decode_json_bytes_tolerates_bom_only_utf8() -> None:
    assert json.loads(decode_json_bytes(b"\xef\xbb\xbf[]", origin="u")) == []
    with pytest.raises(ParseError, match="JSON is not UTF-8"):
        decode_json_bytes('["é"]'.encode("cp1252"), origin="u")


def test_detect_format() -> None:
    assert detect_format("\ufeff  [") == "json"
    assert detect_format("<!doctype html>") == "html"
    assert detect_format("new\n\nMar 14") == "text"


def test_parse_saved_page_takes_date_from_name_or_option(tmp_path: Path) -> None:
    text = (HF / "api-2026-08-21.json").read_text(encoding="utf-8")
    kwargs = {"source": "s", "today": DAY}
    assert (
        parse_saved_page(text, origin="a/2026-08-21.json", listing_date=None, **kwargs).listing_date
        == DAY
    )
    page = parse_saved_page(text, origin="a/x.json", listing_date=DAY, **kwargs)
    assert page.listing_date == DAY
    with pytest.raises(ParseError, match="entries are listed on 2026-08-21, not 2026-08-22"):
        parse_saved_page(text, origin="a/x.json", listing_date=date(2026, 8, 22), **kwargs)
    with pytest.raises(ParseError, match=r"pass --date or name the file like 2026-08-21\.json"):
        parse_saved_page(text, origin="a/x.json", listing_date=None, **kwargs)
    html_text = (HF / "page-2026-08-21.html").read_text(encoding="utf-8")
    assert (
        parse_saved_page(html_text, origin="x.html", listing_date=None, **kwargs).listing_date
        == DAY
    )


def test_ingest_files_mixes_formats(tmp_path: Path, engine, now) -> None:
    (tmp_path / "2026-08-21.json").write_bytes((HF / "api-2026-08-21.json").read_bytes())
    (tmp_path / "page.txt").write_text(text_page("Aug 20, 2026", [("Old Paper", "Abstract.")]))
    report = ingest_files([tmp_path], engine=engine, now=now)
    assert report.ok
    assert sorted((p.listing_date.isoformat(), p.papers, p.new) for p in report.pages) == [
        ("2026-08-20", 1, 1),
        ("2026-08-21", 3, 3),
    ]


def test_title_only_paper_gains_arxiv_id_from_api(engine, now) -> None:
    api_text = (HF / "api-2025-03-18.json").read_text(encoding="utf-8")
    api_page = _api(api_text, date(2025, 3, 18))
    first = api_page.papers[0]
    text = text_page("Mar 17, 2025", [(first.title, first.abstract)])
    text_day = parse_saved_page(text, origin="t.txt", source="pages", today=DAY, listing_date=None)
    with write_session(engine) as session:
        upsert_page(session=session, page=text_day, now=now)
    with write_session(engine) as session:
        report = upsert_page(session=session, page=api_page, now=now)
    assert (report.new, report.recurring) == (1, 1)
    with read_session(engine) as session:
        papers = select_papers(session=session)
    merged = [p for p in papers if p.arxiv_id == first.arxiv_id]
    assert len(papers) == 2
    assert len(merged) == 1
    assert merged[0].key.startswith("title:")
    assert (merged[0].first_seen, merged[0].times_seen) == (date(2025, 3, 17), 2)


def _parse_archive(root: Path) -> tuple[int, int]:
    """Parse every day file under ``root`` as paperboy would; (files, entries)."""
    files = sorted(root.rglob("*.json"))
    total = 0
    for path in files:
        text = path.read_text(encoding="utf-8")
        day = date.fromisoformat(path.stem)
        raw = json.loads(text)
        if path.name in MALFORMED:
            with pytest.raises(ParseError):
                _api(text, day)  # strict (live API): refused
            page = parse_saved_page(
                text, origin=str(path), source="s", today=DAY, listing_date=None
            )
            assert len(page.papers) == len(raw if isinstance(raw, list) else raw["data"])
        else:
            page = _api(text, day)
            assert [p.arxiv_id for p in page.papers] == [e["paper"]["id"] for e in raw]
            assert all(p.title and "\n" not in p.title for p in page.papers)
        total += len(page.papers)
    return len(files), total


def test_shipped_archive_files_parse() -> None:
    # 2024 schema (indent 4, hard wraps), both malformed files, the first day with
    # submittedOnDailyAt, a 2-entry partial day and a same-day earlier snapshot (1 entry)
    assert _parse_archive(SHIPPED_ARCHIVE) == (8, 8 + 26 + 9 + 13 + 12 + 2 + 7 + 1)


@pytest.mark.skipif(
    not os.environ.get(ARCHIVE_ENV),
    reason=f"{ARCHIVE_ENV} is unset: set it to the folder of the full archive "
    "(2404589803/hf-daily-paper-newsletter-chinese, 85 files) to parse all of it; "
    "the shipped subset is parsed by test_shipped_archive_files_parse",
)
def test_full_archive_files_parse() -> None:
    root = Path(os.environ[ARCHIVE_ENV])
    assert root.is_dir(), f"{ARCHIVE_ENV}={root} is not a folder"
    files, total = _parse_archive(root)
    assert files >= 80
    assert total == 1763  # 1,762 entries in the 84 day files + 1 in the earlier same-day snapshot
