from __future__ import annotations

from datetime import date, timedelta

import pytest

from pipeline.errors import ParseError
from pipeline.ingest.parse import infer_year
from pipeline.ingest.parse.text_page import TITLE_MAX_CHARS, parse_listing_date, parse_text_page
from pipeline.records import Page
from tests.conftest import SAMPLES, text_page

TODAY = date(2026, 11, 23)


def parse(text: str, listing_date: date | None = None) -> Page:
    return parse_text_page(
        text, origin="page.txt", source="test", today=TODAY, listing_date=listing_date
    )


@pytest.mark.parametrize(
    ("name", "listing", "count", "first", "last"),
    [
        (
            "page-a.txt",
            date(2026, 3, 14),
            60,
            "Efficient Streaming Language Models with Attention Sinks",
            "Model Compression and Efficient Inference for Large Language Models: A Survey",
        ),
        (
            "page-b.txt",
            date(2026, 9, 3),
            47,  # page-b has an extra "Daily Papers" header line
            "Sliding Windows Are Not the End: Exploring Full Ranking with Long-Context Large "
            "Language Models",
            "Activation-aware Probe-Query: Effective Key-Value Retrieval for Long-Context LLMs "
            "Inference",
        ),
        (
            "page-c.txt",
            date(2026, 3, 11),
            78,
            "Talking Heads: Understanding Inter-layer Communication in Transformer Language Models",
            "L2MAC: Large Language Model Automatic Computer for Extensive Code Generation",
        ),
    ],
)
def test_parse_text_page_samples(
    name: str, listing: date, count: int, first: str, last: str
) -> None:
    page = parse_text_page(
        (SAMPLES / name).read_text(encoding="utf-8"), origin=name, source="s", today=TODAY
    )
    assert page.listing_date == listing
    assert len(page.papers) == count
    assert page.papers[0].title == first
    assert page.papers[-1].title == last
    assert [p.rank for p in page.papers] == list(range(1, count + 1))
    assert all(p.abstract and p.arxiv_id is None for p in page.papers)


def test_parse_text_page_extracts_code_links() -> None:
    page = parse_text_page(
        (SAMPLES / "page-a.txt").read_text(encoding="utf-8"), origin="a", source="s", today=TODAY
    )
    assert page.papers[0].links == ("https://github.com/mit-han-lab/streaming-llm",)
    assert page.papers[1].links == (
        "https://github.com/withinmiaov/A-Survey-on-Mixture-of-Experts",
    )
    assert page.papers[2].links == ()


@pytest.mark.parametrize(
    ("line", "today", "expected"),
    [
        ("Mar 14", date(2026, 11, 23), date(2026, 3, 14)),
        ("Mar 14", date(2026, 3, 14), date(2026, 3, 14)),  # today itself
        # a page dated tomorrow in UTC is a reader east of UTC, not last year (issue 15.8)
        ("Mar 14", date(2026, 3, 13), date(2026, 3, 14)),
        ("Mar 15", date(2026, 3, 13), date(2025, 3, 15)),  # more than a day ahead: last year
        ("Jan 1", date(2026, 12, 31), date(2027, 1, 1)),
        ("Dec 31", date(2027, 1, 1), date(2026, 12, 31)),
        ("Feb 29", date(2026, 11, 23), date(2024, 2, 29)),  # last leap year
        ("September 3", date(2026, 11, 23), date(2026, 9, 3)),
        ("Sept 3", date(2026, 11, 23), date(2026, 9, 3)),
        ("Mar 8, 2024", date(2026, 11, 23), date(2024, 3, 8)),
        ("Mar 32", date(2026, 11, 23), None),
        ("Subscribe", date(2026, 11, 23), None),
        ("Foo 3", date(2026, 11, 23), None),
    ],
)
def test_parse_listing_date(line: str, today: date, expected: date | None) -> None:
    assert parse_listing_date(line, today=today) == expected


def test_infer_year_at_most_one_day_ahead() -> None:
    for month in range(1, 13):
        assert infer_year(month, 28, today=TODAY) <= TODAY + timedelta(days=1)


def test_parse_text_page_date_override() -> None:
    page = parse(text_page("Mar 14", [("T", "A")]), listing_date=date(2024, 3, 14))
    assert page.listing_date == date(2024, 3, 14)


def test_parse_text_page_crlf_unicode_and_long_abstract() -> None:
    long_abstract = "word " * 40_000 + "end."  # 200 kB with no blank line
    papers = [
        ("Ünïcödé Títle: 大规模语言模型 and emoji 🚀", "Résumé of the work."),
        ("Long one", long_abstract),
        ("Wrapped", "first line of the abstract\nsecond line\nthird line"),
    ]
    text = text_page("Mar 14", papers).replace("\n", "\r\n")
    page = parse(text)
    got = [(p.title, p.abstract) for p in page.papers]
    assert got == [
        papers[0],
        ("Long one", long_abstract.strip()),
        ("Wrapped", "first line of the abstract second line third line"),
    ]


def test_parse_text_page_old_mac_line_endings_and_bom() -> None:
    text = "\ufeff" + text_page("Mar 14", [("T1", "A1"), ("T2", "A2")]).replace("\n", "\r")
    assert [p.title for p in parse(text).papers] == ["T1", "T2"]


def test_parse_text_page_long_block_continues_previous_abstract() -> None:
    second_paragraph = "More. " * (TITLE_MAX_CHARS // 5)
    text = text_page("Mar 14", [("T1", "First paragraph.")]) + f"{second_paragraph}\n\nT2\n\nA2\n"
    page = parse(text)
    assert [p.title for p in page.papers] == ["T1", "T2"]
    assert page.papers[0].abstract == f"First paragraph.\n\n{second_paragraph.strip()}"


def test_parse_text_page_strips_control_characters() -> None:
    page = parse(text_page("Mar 14", [("Bad\x00 \x0btitle\x1b", "Ab\x07stract")]))
    assert (page.papers[0].title, page.papers[0].abstract) == ("Bad title", "Abstract")


def test_parse_text_page_of_headers_only_is_refused() -> None:
    """Issue 15.8: a page of headers only (saved before the list loaded) was stored as an empty
    edition; the API's ``[]`` stays a valid empty day (a weekend)."""
    with pytest.raises(ParseError, match="no papers after the date line 'Mar 14'"):
        parse(text_page("Mar 14", []))


def test_parse_text_page_invalid_date_line_says_so() -> None:
    """Issue 15.11: ``Feb 30`` was reported as "no date line"."""
    with pytest.raises(ParseError, match="date line 'Feb 30' is not a valid date"):
        parse(text_page("Feb 30", [("T", "A")]))


def test_parse_text_page_in_the_future_is_refused() -> None:
    """Issue 15.8: a page of 2030 became the latest edition."""
    with pytest.raises(ParseError, match=r"listing date 2030-03-08 is in the future"):
        parse(text_page("Mar 8, 2030", [("T", "A")]))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "page.txt: empty page"),
        ("  \n\n \n", "page.txt: empty page"),
        (
            "Title one\n\nAbstract one\n",
            "page.txt: no listing date line (like 'Mar 14') in the first 15 lines: "
            "not a daily papers text page?",
        ),
        (
            text_page("Mar 14", [("T1", "A1")]) + "Cut off title\n",
            "page.txt: truncated: paper 2 ('Cut off title') has a title but no abstract",
        ),
        (
            text_page("Mar 14", []) + "x" * (TITLE_MAX_CHARS + 1),
            f"page.txt: first block after the date is {TITLE_MAX_CHARS + 1} characters: "
            "expected a title",
        ),
    ],
)
def test_parse_text_page_errors_name_file_and_problem(text: str, message: str) -> None:
    with pytest.raises(ParseError) as info:
        parse(text)
    assert str(info.value) == message
    assert info.value.source == "page.txt"


def test_content_hash_ignores_layout_but_not_content() -> None:
    base = parse(text_page("Mar 14", [("T1", "A1"), ("T2", "A2")]))
    crlf = parse(text_page("Mar 14", [("T1", "A1"), ("T2", "A2")]).replace("\n", "\r\n"))
    other = parse(text_page("Mar 14", [("T1", "A1"), ("T2", "A2 changed")]))
    assert base.content_hash == crlf.content_hash
    assert base.content_hash != other.content_hash
