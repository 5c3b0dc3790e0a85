from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.errors import ParseError
from pipeline.identity import clean_text, extract_links, fold_title
from pipeline.ingest.parse import infer_year
from pipeline.ingest.parse.common import check_not_future
from pipeline.ingest.parse.text_page import (
    HEADER_MAX_LINES,
    TITLE_MAX_CHARS,
    _date_parts,
    parse_listing_date,
    parse_text_page,
)
from pipeline.records import Page, ParsedPaper
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


# --- The parser against the one it replaced (issue 14) ----------------------------------------
# The oracle below is the parser as it was before issue 14 made it fold each block once: lines
# split and re-joined, every block folded twice, titles checked by folding them again, links found
# by trying the pattern at every character, the page hashed part by part. Its helpers are copied
# too, so a change to extract_links, checked_title or content_hash cannot hide in both sides.

_ORACLE_BLANK_LINES = re.compile(r"\n[ \t]*\n")
_ORACLE_URL = re.compile(r"[Hh][Tt][Tt][Pp][Ss]?://[^\s<>\"'`{}|\\^]+")


def _oracle_links(text: str) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for match in _ORACLE_URL.finditer(text):
        url = match.group(0).rstrip(".,;:!?)]}'\"")
        if url.count("(") > url.count(")") and match.group(0)[len(url) :].startswith(")"):
            url += ")"
        if "." in url.split("//", 1)[1]:
            seen.setdefault(url, None)
    return tuple(seen)


def _oracle_hash(papers: tuple[ParsedPaper, ...]) -> str:
    digest = hashlib.sha256()
    for paper in papers:
        for part in (paper.arxiv_id or "", paper.title, paper.abstract):
            digest.update(part.encode("utf-8"))
            digest.update(b"\x1f")
        digest.update(b"\x1e")
    return digest.hexdigest()


def _oracle_header(lines: list[str], origin: str, today: date) -> tuple[date, int]:
    seen = 0
    for index, line in enumerate(lines):
        if not line.strip():
            continue
        found = parse_listing_date(line, today=today)
        if found:
            return found, index + 1
        if _date_parts(line) is not None:
            raise ParseError(origin, f"date line {line.strip()!r} is not a valid date")
        seen += 1
        if seen >= HEADER_MAX_LINES:
            break
    raise ParseError(
        origin,
        f"no listing date line (like 'Mar 14') in the first {HEADER_MAX_LINES} lines: "
        "not a daily papers text page?",
    )


def _oracle_pairs(blocks: list[str], origin: str) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    title: str | None = None
    for block in blocks:
        if title is None:
            if len(block) > TITLE_MAX_CHARS and pairs:
                pairs[-1] = (pairs[-1][0], f"{pairs[-1][1]}\n\n{block}")
                continue
            if len(block) > TITLE_MAX_CHARS:
                raise ParseError(
                    origin,
                    f"first block after the date is {len(block)} characters: expected a title",
                )
            title = block
        else:
            pairs.append((title, block))
            title = None
    if title is not None:
        raise ParseError(
            origin,
            f"truncated: paper {len(pairs) + 1} ({title[:60]!r}) has a title but no abstract",
        )
    return pairs


def oracle_parse(text: str, *, today: date = TODAY, listing_date: date | None = None) -> Page:
    origin = "page.txt"
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise ParseError(origin, "empty page")
    lines = text.split("\n")
    header_date, body_start = _oracle_header(lines, origin, today)
    check_not_future(listing_date or header_date, today=today, origin=origin)
    body = "\n".join(lines[body_start:])
    blocks = [" ".join(b.split("\n")).strip() for b in _ORACLE_BLANK_LINES.split(body)]
    blocks = [clean_text(b) for b in blocks if b.strip()]
    papers = []
    for rank, (title, abstract) in enumerate(_oracle_pairs(blocks, origin), start=1):
        if not fold_title(title):
            raise ParseError(origin, f"paper {rank}: title {title[:60]!r} has no letters or digits")
        papers.append(ParsedPaper(title, abstract, rank, links=_oracle_links(abstract)))
    if not papers:
        raise ParseError(
            origin,
            f"no papers after the date line {lines[body_start - 1].strip()!r}: nothing to "
            "store (was the page saved before its list loaded?)",
        )
    found = tuple(papers)
    return Page("test", origin, listing_date or header_date, found, _oracle_hash(found))


def outcome(parser: Callable[[], Page]) -> Page | tuple[str, str]:
    """The page a parser returns, or the ParseError it raises as (source, message)."""
    try:
        return parser()
    except ParseError as error:
        return (error.source, str(error))


def assert_same_as_oracle(text: str, listing_date: date | None = None) -> Page | tuple[str, str]:
    ours = outcome(lambda: parse(text, listing_date=listing_date))
    assert ours == outcome(lambda: oracle_parse(text, listing_date=listing_date))
    return ours


# Words of titles and abstracts, with the odd characters saved pages carry: tabs, no-break and
# other Unicode spaces, form feeds and controls (dropped), lone surrogates, soft wraps, links
# (with trailing punctuation, parentheses, odd case, other schemes), words with no letters.
WORDS = st.sampled_from(
    [
        "Attention", "sinks", "LLMs", "e.g.", "3.5x", "Ünïcödé", "大规模", "🚀", "!!!", "—", "_",
        "ＦＵＬＬ", "℡", "\t", "\xa0", "\u2028", "\u3000", "\x0b", "\x0c", "\x85", "\x00", "\x1b",
        "\x7f", "\ud800", "\ufeff", "  ", " \n ", "\n", "\n\t", "https://github.com/a/b.",
        "(https://example.org/a_(b))", "HTTP://X.ORG/y,", "hTTpS://q.io/p?x=1;", "ftp://a.b/c",
        "http://localhost.", "https://", "xhttps://e.com", "https://e.com/http://f.org",
        "<https://g.org/h>", "Mar 14", "Feb 30",
    ]
)  # fmt: skip
BLOCK = st.lists(WORDS, min_size=1, max_size=12).map(" ".join)
TITLE = st.builds(
    "{} {}".format, st.sampled_from(["Attention", "LLMs", "Ünïcödé", "ＦＵＬＬ"]), BLOCK
)
LONG_BLOCK = st.builds(lambda word, n: f"{word} " * n, WORDS, st.integers(90, 130))
BLANK = st.sampled_from(["\n\n", "\n\n\n", "\n \n", "\n\t\n", "\n \t \n\n", "\n\xa0\n"])
GOOD_DATE = st.sampled_from(["Mar 14", "March 14", "Sept 3", "Mar 8, 2024", " Nov 22\t", "Dec. 31"])
BAD_DATE = st.sampled_from(["Mar 8, 2030", "Feb 30", "Foo 3", "Mar 32"])
HEADER = st.lists(
    st.sampled_from(["new", "Subscribe", "Daily Papers", "byAK and the research community", ""]),
    max_size=17,
)


@st.composite
def saved_pages(draw: st.DrawFn) -> str:
    """A page in the saved layout (header, date line, blocks) with odd whitespace throughout.

    Mostly well formed (a valid date, titles with letters, whole pairs); now and then a bad
    date, a title of no letters, a further paragraph, a title cut off at the end.
    """

    def sometimes(one_in: int) -> bool:
        return draw(st.integers(1, one_in)) == 1

    date_line = draw(BAD_DATE if sometimes(8) else GOOD_DATE)
    text = "\n".join([*draw(HEADER), date_line]) + draw(BLANK)
    for _ in range(draw(st.integers(0, 6))):
        title = draw(BLOCK if sometimes(10) else st.just("\x00") if sometimes(20) else TITLE)
        text += title + draw(BLANK) + draw(LONG_BLOCK if sometimes(5) else BLOCK) + draw(BLANK)
        if sometimes(5):  # a further paragraph of the abstract
            text += draw(LONG_BLOCK) + draw(BLANK)
    if sometimes(8):
        text += draw(st.sampled_from(["\n", "\n\n \n", "Cut off title"]))
    text = text.replace("\n", draw(st.sampled_from(["\n", "\r\n", "\r"])))
    return draw(st.sampled_from(["", "\ufeff", "\ufeff\ufeff"])) + text


EQUIVALENCE = settings(max_examples=400, deadline=None)


@EQUIVALENCE
@given(saved_pages())
def test_parser_equals_the_previous_parser_on_saved_pages(text: str) -> None:
    assert_same_as_oracle(text)


@EQUIVALENCE
@given(st.text(alphabet=st.sampled_from("Mar 14\n\r\t \xa0\x00\x0bab.:/htps()"), max_size=200))
def test_parser_equals_the_previous_parser_on_any_text(text: str) -> None:
    assert_same_as_oracle(text)
    assert_same_as_oracle(f"Mar 14\n\n{text}", listing_date=date(2024, 3, 14))


@EQUIVALENCE
@given(st.lists(st.one_of(WORDS, st.text(max_size=8)), max_size=20).map("".join))
def test_extract_links_equals_trying_the_pattern_everywhere(text: str) -> None:
    assert extract_links(text) == _oracle_links(text)


def test_parser_equals_the_previous_parser_on_the_samples_and_bad_pages() -> None:
    for path in sorted(SAMPLES.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        for variant in (text, text.replace("\n", "\r\n"), text[: len(text) // 2]):
            assert isinstance(assert_same_as_oracle(variant), Page)
    bad = [
        "",
        " \n\t",
        "\x00",
        "Mar 14",
        "Mar 14\n",
        "Mar 14\n\nTitle\n",
        "\x00\n\nMar 14\n\n!!!\n\nA",
    ]
    for text in bad:
        assert not isinstance(assert_same_as_oracle(text), Page), text
    # UTF-16 read as text (every other character NUL): no date line either way
    utf16 = text_page("Mar 14", [("T", "A")]).encode("utf-16").decode("latin-1")
    assert not isinstance(assert_same_as_oracle(utf16), Page)
