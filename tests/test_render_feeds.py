"""Pure feed rendering: golden files, structure (F2), hostile text (F7), determinism."""

from __future__ import annotations

from datetime import UTC, date, datetime

import lxml.html
import pytest
from lxml import etree

from pipeline.feeds.items import build_feed, entry_instant, tag_uri
from pipeline.feeds.render import render_atom, render_opml, render_rss
from pipeline.records import StoredPaper
from tests.feed_checks import ATOM, check_atom, check_rss, parse_clean
from tests.golden import assert_golden

ENTITY = "example.org,2026-11-01"
SITE = "https://example.org/paperboy/"


def paper(key: str, title: str, **kw: object) -> StoredPaper:
    values: dict[str, object] = {
        "abstract": "An abstract about long context.",
        "arxiv_id": None,
        "links": (),
        "first_seen": date(2026, 3, 14),
        "last_seen": date(2026, 3, 14),
        "times_seen": 1,
    }
    values.update(kw)
    return StoredPaper(key=key, title=title, **values)  # type: ignore[arg-type]


def sample_feed(papers=None, slug="long-context"):
    papers = papers or [
        (
            paper(
                "arxiv:2309.17453",
                "Efficient Streaming LMs",
                arxiv_id="2309.17453",
                links=("https://github.com/mit-han-lab/streaming-llm",),
                times_seen=2,
                last_seen=date(2026, 3, 15),
                authors=("A. Author", "B. Writer"),
                upvotes=163,
                comments=4,
                ai_summary="Keeping attention sinks lets a model stream endless text.",
                github_repo="https://github.com/mit-han-lab/streaming-llm",
                github_stars=6800,
                project_page="https://hanlab.mit.edu/streaming-llm",
            ),
            1,
        ),
        (
            paper(
                "title:longheads",
                "LongHeads: Multi-Head Attention",
                first_seen=date(2026, 3, 11),
                last_seen=date(2026, 3, 11),
                links=("https://github.com/LuckyLYM/longheads",),
            ),
            4,
        ),
        (paper("title:no links", "A paper without links"), 2),
    ]
    return build_feed(
        slug=slug,
        title="paperboy: Long context",
        description="Longer inputs.",
        author="paperboy",
        papers=papers,
        tagging_entity=ENTITY,
        site_url=SITE,
        empty_updated=datetime(2026, 1, 1, tzinfo=UTC),
    )


@pytest.mark.parametrize(
    ("name", "render"), [("long-context.xml", render_rss), ("long-context.atom", render_atom)]
)
def test_render_matches_golden(name, render):
    assert_golden(name, render(sample_feed()))


def test_render_opml_matches_golden():
    feeds = [sample_feed(slug="all"), sample_feed()]
    data = render_opml(feeds, title="paperboy feeds")
    assert_golden("index.opml", data)
    outlines = etree.fromstring(data).findall("body/outline")
    assert [o.get("xmlUrl") for o in outlines] == [
        f"{SITE}feeds/all.xml",
        f"{SITE}feeds/long-context.xml",
    ]


def test_render_rss_structure_and_link_order():
    data = render_rss(sample_feed())
    items = check_rss(data)
    root = etree.fromstring(data)
    # feedgen uses its *last* link() as the channel link: it must be the site, not the feed
    assert root.findtext("channel/link") == SITE
    assert items[0] == (f"tag:{ENTITY}:paper/arxiv:2309.17453", "Sat, 14 Mar 2026 00:59:59 +0000")
    assert [g for g, _ in items][1] == f"tag:{ENTITY}:paper/title:no%20links"
    assert root.findtext("channel/lastBuildDate") == "Sun, 15 Mar 2026 00:00:00 +0000"
    parsed = parse_clean(data)
    assert parsed.entries[0].link == "https://huggingface.co/papers/2309.17453"
    assert "listed on 2 days" in parsed.entries[0].summary
    assert "https://github.com/mit-han-lab/streaming-llm" in parsed.entries[0].summary
    # no arXiv id (text pages): a Hugging Face papers search for the title
    assert parsed.entries[1].link == "https://huggingface.co/papers?q=A+paper+without+links"
    assert parsed.entries[2].link == (
        "https://huggingface.co/papers?q=LongHeads%3A+Multi-Head+Attention"
    )


def test_render_atom_structure():
    data = render_atom(sample_feed())
    entries = check_atom(data)
    root = etree.fromstring(data)
    assert root.findtext(f"{ATOM}id") == f"tag:{ENTITY}:feed/long-context"
    assert root.find(f"{ATOM}link[@rel='self']").get("href") == f"{SITE}feeds/long-context.atom"
    assert entries[0] == (f"tag:{ENTITY}:paper/arxiv:2309.17453", "2026-03-14T00:59:59+00:00")


def test_render_twice_is_byte_identical():
    assert render_rss(sample_feed()) == render_rss(sample_feed())
    assert render_atom(sample_feed()) == render_atom(sample_feed())


def test_render_empty_feed_uses_given_updated():
    feed = sample_feed(papers=[(paper("title:x", "X"), 1)])
    empty = build_feed(
        slug="e",
        title="t",
        description="",
        author="a",
        papers=[],
        tagging_entity=ENTITY,
        site_url=SITE,
        empty_updated=datetime(2026, 1, 1, tzinfo=UTC),
    )
    assert check_rss(render_rss(empty)) == []
    assert check_atom(render_atom(empty)) == []
    assert empty.updated == datetime(2026, 1, 1, tzinfo=UTC)
    assert feed.updated == entry_instant(date(2026, 3, 14), 1)


HOSTILE = 'Is x < y? <script>alert("x")</script> A&B "q" \'s\' ]]> 🚀\x00\x0b\x1f end'


@pytest.mark.parametrize("render", [render_rss, render_atom])
def test_render_hostile_text_is_escaped(render):
    hostile = paper(
        "title:hostile",
        HOSTILE,
        abstract=HOSTILE + " <img src=x onerror=alert(1)>",
        links=("javascript:alert(1)", "https://ok.example/a?b=1&c=<2>"),
    )
    data = render(sample_feed(papers=[(hostile, 1)]))
    etree.fromstring(data)  # well-formed
    assert b"\x0b" not in data and b"\x00" not in data and b"\x1f" not in data
    parsed = parse_clean(data)
    entry = parsed.entries[0]
    assert entry.title == 'Is x < y? <script>alert("x")</script> A&B "q" \'s\' ]]> 🚀 end'
    summary = lxml.html.fragment_fromstring(entry.summary, create_parent="div")
    assert summary.xpath("//script | //img | //*[@onerror]") == []
    assert '<script>alert("x")</script>' in summary.text_content()  # shown as text
    assert [a.get("href") for a in summary.iter("a")] == [
        hostile.url,
        "https://ok.example/a?b=1&c=<2>",
    ]
    (check_atom if render is render_atom else check_rss)(data)


def test_tag_uri_escapes_key():
    assert tag_uri(ENTITY, "paper/title:naïve rag #1") == (
        f"tag:{ENTITY}:paper/title:na%C3%AFve%20rag%20%231"
    )


def test_paper_link_is_the_paper_page_or_a_title_search():
    assert paper("arxiv:2309.17453", "P", arxiv_id="2309.17453").url == (
        "https://huggingface.co/papers/2309.17453"
    )
    hostile = paper("title:x", 'A "quoted" <b>&amp; title', links=("javascript:alert(1)",))
    assert hostile.url == ("https://huggingface.co/papers?q=A+%22quoted%22+%3Cb%3E%26amp%3B+title")


@pytest.mark.parametrize("render", [render_rss, render_atom])
def test_bidi_overrides_never_reach_feed_titles(render):
    """Issue 15.11: U+202E survived in feed titles (a reader shows "rtl exe.png" reversed)."""
    tricky = paper(
        "title:rtl", "rtl \u202egnp.exe\u202c and \u2066isolate\u2069", abstract="a\u202eb"
    )
    data = render(sample_feed(papers=[(tricky, 1)])).decode()
    for mark in ("\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2069"):
        assert mark not in data
    assert parse_clean(data.encode()).entries[0].title == "rtl gnp.exe and isolate"
