"""The per-paper block (issue 13): TL;DR, counts and labelled links, in email, web and feeds.

Also issue 15 item 11: a paper without arXiv id gets its Hugging Face page labelled as such (never
"Code"), and an id that is not URL-safe never reaches a URL.
"""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import pytest
from sqlalchemy import Engine
from starlette.testclient import TestClient

from pipeline.feeds.items import summary_html
from pipeline.feeds.publish import collect_feeds
from pipeline.ingest.parse import content_hash
from pipeline.mail.paper_view import paper_links, paper_view, tldr_and_rest
from pipeline.mail.render import render_bodies
from pipeline.records import Edition, Page, ParsedPaper, StoredPaper
from pipeline.store.papers import store_page
from tests.conftest import NOW
from tests.email_support import make_job
from tests.web_support import SITE, Clock, assert_safe_html, build_app, web_config

DAY = date(2026, 7, 9)


def stored(key: str = "arxiv:2607.07708", **kw: object) -> StoredPaper:
    values: dict[str, object] = {
        "title": "SciReasoner",
        "abstract": "We present SciReasoner. It reasons across proteins (e.g. folds). More.",
        "arxiv_id": "2607.07708",
        "links": (),
        "first_seen": DAY,
        "last_seen": DAY,
        "times_seen": 1,
    }
    values.update(kw)
    return StoredPaper(key=key, **values)  # type: ignore[arg-type]


def labels(paper: StoredPaper) -> list[tuple[str, str]]:
    return list(paper.labelled_links)


def test_arxiv_paper_links_in_reading_order() -> None:
    paper = stored(
        github_repo="https://github.com/SpectrAI-Initiative/SciReasoner",
        github_stars=1,
        project_page="https://scireasoner.github.io",
        links=("https://github.com/SpectrAI-Initiative/SciReasoner", "https://other.org/x"),
    )
    assert labels(paper) == [
        ("Hugging Face", "https://huggingface.co/papers/2607.07708"),
        ("arXiv", "https://arxiv.org/abs/2607.07708"),
        ("PDF", "https://arxiv.org/pdf/2607.07708"),
        ("Code", "https://github.com/SpectrAI-Initiative/SciReasoner"),
        ("Project page", "https://scireasoner.github.io"),
    ]
    assert [link["stars"] for link in paper_links(paper)] == [None, None, None, 1, None]


def test_paper_without_arxiv_id_is_never_labelled_code() -> None:
    """Issue 15 item 11: stores made before the fix hold the Hugging Face URL among the links,
    with the id pasted in unchecked; it is neither 'Code' nor any other link now."""
    legacy = stored(
        key="title:notonarxiv",
        arxiv_id=None,
        links=("https://huggingface.co/papers/some id<b>", "https://project.example/"),
    )
    assert labels(legacy) == [
        ("Search on Hugging Face", "https://huggingface.co/papers?q=SciReasoner"),
        ("Link", "https://project.example/"),
    ]
    fixed = dataclasses.replace(legacy, hf_id="hf-42", links=())
    assert labels(fixed) == [("Hugging Face", "https://huggingface.co/papers/hf-42")]
    assert fixed.url == "https://huggingface.co/papers/hf-42"


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("https://github.com/a/b", True),
        ("https://gitlab.example.org/a/b", True),
        ("https://codeberg.org/a/b", True),
        ("https://evil.example/?github.com", False),
        ("https://github.com.evil.example/a", False),
        ("https://huggingface.co/papers/2607.07708", False),
    ],
)
def test_only_code_hosts_are_code(url: str, code: bool) -> None:
    assert (stored(links=(url,)).code_url == url) is code


def test_tldr_is_the_ai_summary_else_the_first_sentence() -> None:
    plain = stored()
    assert plain.tldr == "We present SciReasoner."
    assert plain.abstract_rest == "It reasons across proteins (e.g. folds). More."
    summarised = stored(ai_summary="A model that reasons about science.")
    assert summarised.tldr == "A model that reasons about science."
    assert summarised.abstract_rest == summarised.abstract  # nothing shown twice, nothing lost


def test_long_opening_sentence_is_cut_and_the_abstract_goes_on_from_the_cut() -> None:
    words = " ".join(f"w{n}" for n in range(200))  # one 889-character sentence
    paper = stored(abstract=f"{words}. Second sentence.")
    tldr, rest = tldr_and_rest(paper)
    assert len(tldr) <= 451 and tldr.endswith("…") and rest.startswith("…")
    assert tldr[:-1] + " " + rest[1:] == paper.abstract  # nothing lost, nothing twice
    summarised = dataclasses.replace(paper, ai_summary="x " * 400)
    tldr, rest = tldr_and_rest(summarised)
    assert len(tldr) <= 451 and rest == summarised.abstract


def test_paper_view_cuts_and_checks() -> None:
    paper = stored(ai_summary="x " * 400, github_repo="javascript:alert(1)", upvotes=3)
    view = paper_view(paper, topics=[], abstract_chars=40)
    assert len(view["tldr"]) <= 451 and view["tldr"].endswith("…")
    assert all(link["url"].startswith("https://") for link in view["links"])
    assert "Code" not in [link["label"] for link in view["links"]]
    assert (view["upvotes"], view["comments"]) == (3, None)


def test_email_shows_tldr_above_the_abstract_and_the_links() -> None:
    job = make_job()
    paper = stored(upvotes=60, comments=1, ai_summary="A model for science.", topics=("agents",),
                   github_repo="https://github.com/a/b", github_stars=12)  # fmt: skip
    edition = Edition(day=DAY, new=(paper,), recurring=())
    bodies = render_bodies(edition, chosen=["agents"], titles={"agents": "Agents"},
                           envs=job.envs, settings=job.settings)  # fmt: skip
    html, text = bodies.html, bodies.text
    assert html.index("A model for science.") < html.index("We present SciReasoner.")
    for label in ("Hugging Face", "arXiv", "PDF", "Code"):
        assert f">{label}</a>" in html
    assert "▲&nbsp;60&nbsp;upvotes" in html and "★&nbsp;12" in html  # inlined: characters
    assert text.index("TL;DR: A model for science.") < text.index("We present SciReasoner.")
    assert "60 upvotes, 1 comment\n" in text
    assert "  Code: https://github.com/a/b (12 stars)\n" in text
    assert "  PDF: https://arxiv.org/pdf/2607.07708\n" in text


def test_feed_summary_carries_the_same_block() -> None:
    paper = stored(upvotes=2, comments=0, github_repo="https://github.com/a/b", github_stars=0)
    html = summary_html(paper)
    assert html.startswith("<p><strong>TL;DR:</strong> We present SciReasoner.</p>\n<p>It reasons")
    assert "<p>▲ 2 upvotes</p>" in html
    assert '<a href="https://github.com/a/b">Code</a> (★ 0)' in html


def _day(day: date, upvotes: int) -> Page:
    papers = (
        ParsedPaper(title="SciReasoner", abstract="We present it. More.", rank=1,
                    arxiv_id="2607.07708", upvotes=upvotes, comments=1,
                    ai_summary="A model for science."),
        ParsedPaper(title="Second", abstract="Second paper.", rank=2, arxiv_id="2607.07709",
                    upvotes=upvotes * 2, comments=0),
    )  # fmt: skip
    return Page("hf-api", "api", day, papers, content_hash(papers))


def test_feeds_keep_guids_and_dates_when_upvotes_move(engine: Engine) -> None:
    """A refetch with new counts changes the summaries, never a GUID, link or date."""

    def collect() -> list[tuple[str, str, object, str]]:
        feeds = collect_feeds(engine, topics=(), site_url=SITE + "/", title="paperboy",
                              limit=10, tagging_entity="example.org,2026-07-01")  # fmt: skip
        return [(e.guid, e.link, e.published, e.summary_html) for e in feeds[0].entries]

    store_page(engine, _day(DAY, 5), now=NOW)
    before = collect()
    store_page(engine, _day(DAY, 50), now=NOW + timedelta(hours=3))
    after = collect()
    assert [row[:3] for row in after] == [row[:3] for row in before]
    assert "▲ 5 upvotes" in before[0][3] and "▲ 50 upvotes" in after[0][3]


def test_web_edition_page_shows_the_block_ranked_by_upvotes(tmp_path, engine: Engine) -> None:
    cfg = web_config(tmp_path)
    store_page(engine, _day(DAY, 5), now=NOW)
    client = TestClient(build_app(cfg, engine, Clock(NOW)), base_url=SITE)
    response = client.get(f"/editions/{DAY.isoformat()}")
    assert response.status_code == 200
    page = response.text
    assert_safe_html(page)
    assert page.index("Second") < page.index("SciReasoner")  # 10 upvotes before 5
    assert page.index("<strong>TL;DR</strong> A model for") < page.index("We present it.")
    assert ">PDF</a>" in page and "https://arxiv.org/pdf/2607.07708" in page
    assert "&#9650;&nbsp;10&nbsp;upvotes" in page
    store_page(engine, _day(DAY, 7), now=NOW + timedelta(hours=1))  # same text, new counts
    assert "&#9650;&nbsp;14&nbsp;upvotes" in client.get(f"/editions/{DAY.isoformat()}").text
    assert "&#9650;&nbsp;7&nbsp;upvotes" in client.get("/search?q=SciReasoner").text
